import { z } from 'zod';
import type { KairosMetrics } from '../../metrics/metrics.js';
import { defineRoute, type RouteModule } from '../route.js';

/**
 * `/metrics` in the Prometheus text format. It needs the viewer role like the rest of the API:
 * metrics name jobs and queues, which are not for everyone. Prometheus sends the token with
 * `authorization: { credentials: <token> }` in its scrape config (see docs/observability.md).
 */
export function metricsRoutes(options: { metrics: KairosMetrics }): RouteModule {
  const { metrics } = options;
  return {
    name: 'metrics',
    routes: [
      defineRoute({
        method: 'GET',
        path: '/metrics',
        access: 'viewer',
        summary: 'Prometheus metrics (text exposition format).',
        tags: ['metrics'],
        response: { contentType: 'text/plain', schema: z.string(), description: 'Prometheus text format 0.0.4.' },
        handler: async ({ reply }) => {
          const text = await metrics.render();
          void reply.type(metrics.contentType);
          return text;
        },
      }),
    ],
  };
}
