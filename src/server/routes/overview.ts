import { defineRoute, type RouteModule } from '../route.js';
import { overviewSchema, requireLane, type Overview } from './lanes.js';

/** GET /api/overview: one summary per lane — what ended by state, failures, late and missed fires, misfits, queue depth. */
export function overviewRoutes(options: { overview: (() => Promise<Overview>) | undefined }): RouteModule {
  return {
    name: 'overview',
    routes: [
      defineRoute({
        method: 'GET',
        path: '/api/overview',
        access: 'viewer',
        summary: 'Every lane at a glance: runs by state in the last hour and 24 h, failures, late and missed fires, misfits, queue depth.',
        tags: ['lanes'],
        response: { schema: overviewSchema },
        handler: () => requireLane(options.overview, 'lane overview')(),
      }),
    ],
  };
}
