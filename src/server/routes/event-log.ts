import { z } from 'zod';
import type { EventBus } from '../../engine/events/event-bus.js';
import { defineRoute, type RouteModule } from '../route.js';
import { nameParam, requireLane } from './lanes.js';

/**
 * Named events in and out: POST /api/events emits one (records it, starts the deployments it
 * triggers, delivers it to waiting workflows); GET /api/events lists recent ones, including those
 * nothing listened to.
 */

const storedEventSchema = z.object({
  id: z.number(),
  name: z.string(),
  payload: z.unknown(),
  emittedAtMs: z.number(),
  deploymentsStarted: z.number(),
  runsDelivered: z.number().describe('Waiting workflow runs it was delivered to; 0 with no deployment started = unheard.'),
});

export function eventLogRoutes(options: { bus: EventBus | undefined }): RouteModule {
  const lane = (): EventBus => requireLane(options.bus, 'event bus');
  return {
    name: 'event-log',
    routes: [
      defineRoute({
        method: 'POST',
        path: '/api/events',
        access: 'operator',
        summary: 'Emit an event: start matching deployments and wake workflows waiting for it.',
        tags: ['events'],
        body: z.object({ name: nameParam, payload: z.unknown().optional() }).strict(),
        response: {
          status: 202,
          schema: z.object({
            eventId: z.number(),
            started: z.array(z.object({ deployment: z.string(), state: z.string(), runId: z.string().nullable() })),
            delivered: z.number(),
          }),
        },
        handler: async ({ body }) => {
          const result = await lane().emit(body.name, body.payload ?? null);
          return {
            eventId: result.eventId,
            started: result.started.map((s) => ({ deployment: s.deployment, state: s.outcome.state, runId: s.outcome.runId })),
            delivered: result.delivered,
          };
        },
      }),
      defineRoute({
        method: 'GET',
        path: '/api/events',
        access: 'viewer',
        summary: 'Recent events, newest first (unheard ones included).',
        tags: ['events'],
        query: z.object({
          name: nameParam.optional(),
          limit: z.coerce.number().int().min(1).max(500).optional().describe('Default 100.'),
        }),
        response: { schema: z.object({ events: z.array(storedEventSchema) }) },
        handler: async ({ query }) => ({
          events: await lane().listEvents({ limit: query.limit ?? 100, ...(query.name === undefined ? {} : { name: query.name }) }),
        }),
      }),
    ],
  };
}
