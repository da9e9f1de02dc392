import { z } from 'zod';
import type { Logger } from '../../src/core/logger.js';
import { RunNotFoundError } from '../../src/errors.js';
import { createMetrics, type KairosMetrics } from '../../src/metrics/metrics.js';
import { kairosRouteModules } from '../../src/server/api.js';
import { defineRoute, type RouteModule } from '../../src/server/route.js';
import { createServer, type KairosServer, type ServerOptions } from '../../src/server/server.js';
import type { ServerEvent, ServerEventSource } from '../../src/server/sse.js';

export const TOKENS = {
  viewer: 'viewer-token-4f1c2b9a7d',
  operator: 'operator-token-8e3d6a1f0c',
  admin: 'admin-token-2b7e9c4d1a',
} as const;

/**
 * Routes shaped like the lane modules the lead will add (a mutation per role, a resource by id), so
 * the generated auth and fuzz tests cover mutations before the real ones exist.
 */
export function laneShapedRoutes(): RouteModule {
  const items = new Map<string, { id: string; name: string }>([['known', { id: 'known', name: 'nightly-etl' }]]);
  return {
    name: 'lane-shaped',
    routes: [
      defineRoute({
        method: 'GET',
        path: '/api/items/:id',
        access: 'viewer',
        summary: 'Read one item.',
        params: z.object({ id: z.string().min(1).max(200) }),
        response: { schema: z.object({ id: z.string(), name: z.string() }) },
        handler: ({ params }) => {
          const item = items.get(params.id);
          if (item === undefined) throw new RunNotFoundError(`No item '${params.id}'.`, { details: { id: params.id } });
          return item;
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/api/items/:id/trigger',
        access: 'operator',
        summary: 'Trigger an item now.',
        params: z.object({ id: z.string().min(1).max(200) }),
        query: z.object({ dryRun: z.enum(['true', 'false']).optional() }),
        body: z.object({ parameters: z.record(z.string(), z.unknown()).optional(), reason: z.string().max(500).optional() }).strict(),
        response: { status: 202, schema: z.object({ accepted: z.boolean(), id: z.string() }) },
        handler: ({ params }) => {
          if (!items.has(params.id)) throw new RunNotFoundError(`No item '${params.id}'.`);
          return { accepted: true, id: params.id };
        },
      }),
      defineRoute({
        method: 'PUT',
        path: '/api/items/:id',
        access: 'operator',
        summary: 'Rename an item.',
        params: z.object({ id: z.string().min(1).max(200) }),
        body: z.object({ name: z.string().min(1).max(200) }).strict(),
        response: { schema: z.object({ id: z.string(), name: z.string() }) },
        handler: ({ params, body }) => {
          const item = { id: params.id, name: body.name };
          items.set(params.id, item);
          return { ...item, internalSecretField: 'must be stripped by the response schema' };
        },
      }),
      defineRoute({
        method: 'DELETE',
        path: '/api/items/:id',
        access: 'admin',
        summary: 'Delete an item.',
        params: z.object({ id: z.string().min(1).max(200) }),
        response: { schema: z.object({ deleted: z.boolean() }) },
        handler: ({ params }) => ({ deleted: params.id === 'never' ? false : items.delete(params.id) }),
      }),
    ],
  };
}

export interface Fixture {
  server: KairosServer;
  metrics: KairosMetrics;
  close(): Promise<void>;
}

/** An event source that yields `events` and ends (so injected SSE requests complete). */
export function finiteSource(events: ServerEvent[] = []): ServerEventSource {
  return async function* () {
    for (const event of events) yield await Promise.resolve(event);
  };
}

export function buildFixture(overrides: Partial<ServerOptions> & { logger?: Logger; events?: ServerEventSource; extraRoutes?: RouteModule[] } = {}): Fixture {
  const metrics = createMetrics({ defaultMetrics: false });
  metrics.runFinished({ lane: 'local', state: 'Completed', durationMs: 12 });
  const server = createServer({
    auth: {
      tokens: [
        { token: TOKENS.viewer, role: 'viewer', name: 'grafana' },
        { token: TOKENS.operator, role: 'operator', name: 'oncall' },
        { token: TOKENS.admin, role: 'admin', name: 'root' },
      ],
    },
    port: 0,
    routes: [
      ...kairosRouteModules({ metrics, events: overrides.events ?? finiteSource([{ type: 'run.completed', data: { runId: 'r1' } }]) }),
      laneShapedRoutes(),
      ...(overrides.extraRoutes ?? []),
    ],
    ...overrides,
  });
  return {
    server,
    metrics,
    async close() {
      await server.close();
      metrics.close();
    },
  };
}
