import { z } from 'zod';
import { eventTypeFilter, SseConnection, type ServerEventSource } from '../sse.js';
import { defineRoute, type RouteModule } from '../route.js';

export interface EventsRoutesOptions {
  /** Where events come from; called once per connected client. */
  source: ServerEventSource;
  /** A comment line is sent this often to keep idle streams open. Default 15000. */
  heartbeatMs?: number;
  /** Events buffered per slow client before the oldest are dropped. Default 1000. */
  maxBufferedEvents?: number;
  /** Told how many events were dropped for slow clients (e.g. to feed a metric). Default none. */
  onDropped?: (count: number) => void;
}

export interface EventsRouteModule extends RouteModule {
  /** Open streams and events dropped for slow clients since start. */
  stats(): { connections: number; droppedEvents: number };
}

/** GET /api/events/stream: live updates as Server-Sent Events. */
export function eventsRoutes(options: EventsRoutesOptions): EventsRouteModule {
  const connections = new Set<SseConnection>();
  let droppedEvents = 0;
  return {
    name: 'events',
    stats: () => ({ connections: connections.size, droppedEvents }),
    async close() {
      const open = [...connections];
      for (const connection of open) connection.end();
      await Promise.all(open.map((c) => c.done));
    },
    routes: [
      defineRoute({
        method: 'GET',
        path: '/api/events/stream',
        access: 'viewer',
        summary: 'Live events (Server-Sent Events).',
        description:
          'Each event has `id`, `event` (its type) and `data` (JSON). A reconnecting client sends `Last-Event-ID` (or `?lastEventId=`) and gets the events it missed from a bounded in-memory ring; if they are no longer there it gets a `dropped` event first (refetch). `?types=` filters by type. A slow client loses the oldest events and gets a `dropped` event with `{ count, total }` first. Comment lines are heartbeats.',
        tags: ['events'],
        query: z.object({
          types: z
            .string()
            .max(2_000)
            .regex(/^[A-Za-z0-9_.:*-]+(,[A-Za-z0-9_.:*-]+)*$/, 'a comma-separated list of event types or prefixes ending in .*')
            .optional()
            .describe('Only these event types: exact (`run.state`) or prefixes (`queue.*`), comma-separated. Default every type.'),
          lastEventId: z.string().max(100).optional().describe('Resume after this event id (for clients that cannot send the `Last-Event-ID` header).'),
        }),
        response: { contentType: 'text/event-stream', schema: z.string(), description: 'An endless text/event-stream.' },
        handler: ({ reply, redact, query, request }) => {
          const header = request.headers['last-event-id'];
          const lastEventId = (typeof header === 'string' && header !== '' ? header : undefined) ?? query.lastEventId ?? null;
          // The stream outlives the handler: fastify hands the socket over.
          reply.hijack();
          const connection = new SseConnection(reply.raw, options.source, {
            heartbeatMs: options.heartbeatMs ?? 15_000,
            maxBufferedEvents: options.maxBufferedEvents ?? 1_000,
            redact,
            accept: eventTypeFilter(query.types === undefined ? [] : query.types.split(',')),
            request: { lastEventId },
            onDropped: (count) => {
              droppedEvents += count;
              options.onDropped?.(count);
            },
          });
          connections.add(connection);
          void connection.done.then(() => connections.delete(connection));
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(reply.getHeaders())) {
            if (typeof value === 'string') headers[name] = value;
          }
          connection.start(headers);
          return '';
        },
      }),
    ],
  };
}
