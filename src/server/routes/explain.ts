import { z } from 'zod';
import { select } from '../../core/decision-matrix.js';
import { Lane } from '../../core/states.js';
import { defineRoute, type RouteModule } from '../route.js';

const profileSchema = z
  .object({
    frequency: z
      .union([z.string().min(1).max(100), z.number().positive().finite()])
      .describe("How often it runs: '30s', '1h', 'daily', 'adhoc', or milliseconds."),
    visibility: z.enum(['internal', 'user']).optional(),
    complexity: z.enum(['simple', 'dag', 'complex']).optional(),
    durability: z.enum(['ephemeral', 'persistent']).optional(),
    infrastructure: z.enum(['local', 'distributed']).optional(),
    eventTriggered: z.boolean().optional(),
  })
  .strict();

/** POST /api/explain: the decision matrix over HTTP. Read-only, so viewers may call it. */
export function explainRoutes(): RouteModule {
  return {
    name: 'explain',
    routes: [
      defineRoute({
        method: 'POST',
        path: '/api/explain',
        access: 'viewer',
        mutates: false,
        summary: 'Choose the lane for a task profile and say why.',
        tags: ['lanes'],
        body: profileSchema,
        response: { schema: z.object({ lane: z.enum(Object.values(Lane)), reasons: z.array(z.string()) }) },
        handler: ({ body }) => select(body),
      }),
    ],
  };
}
