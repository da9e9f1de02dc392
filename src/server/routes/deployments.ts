import { z } from 'zod';
import type { Deployments } from '../../engine/deployments/deployments.js';
import { describeSchedule } from '../../engine/deployments/schedule.js';
import { OverlapPolicy, type Deployment } from '../../engine/deployments/types.js';
import { InvalidRequestError } from '../../errors.js';
import { defineRoute, type RouteModule } from '../route.js';
import { nameParam, requireLane } from './lanes.js';

/** Deployments (schedules bound to flows and workflows): list with next fires, pause, resume, trigger, backfill. */

const deploymentSchema = z.object({
  id: z.string(),
  name: z.string(),
  target: z.object({ kind: z.enum(['flow', 'workflow']), name: z.string() }),
  schedule: z.string().nullable().describe("Human-readable schedule, e.g. 'cron 0 6 * * 1 (UTC)'."),
  eventTrigger: z.object({ event: z.string(), match: z.record(z.string(), z.unknown()).nullable() }).nullable(),
  metricTrigger: z.object({ metric: z.string(), above: z.number().nullable(), below: z.number().nullable(), forMs: z.number() }).nullable(),
  parameters: z.record(z.string(), z.unknown()),
  overlap: z.string(),
  paused: z.boolean(),
  catchupWindowMs: z.number(),
  maxActiveRuns: z.number().nullable(),
  jitterMs: z.number(),
  description: z.string().nullable(),
  lastFireMs: z.number(),
  nextFireTimesMs: z.array(z.number()).describe('The next scheduled fires (empty when paused or unscheduled).'),
});

const fireSchema = z.object({
  fireKey: z.string(),
  fireMs: z.number(),
  origin: z.string(),
  state: z.string(),
  runId: z.string().nullable(),
  reason: z.string().nullable(),
  recordedAtMs: z.number(),
  startedAtMs: z.number().nullable(),
});

const nameParams = z.object({ name: nameParam });
const instant = z.union([z.number().int().nonnegative(), z.string().min(1).max(64)]);

function toMs(value: number | string, field: string): number {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new InvalidRequestError(`body.${field}: not an instant; use ISO 8601 ('2026-01-01T00:00:00Z') or epoch ms.`, { details: { field } });
  return ms;
}

function view(deployments: Deployments, d: Deployment, count: number): z.input<typeof deploymentSchema> {
  return {
    id: d.id,
    name: d.name,
    target: { kind: d.target.kind, name: d.target.name },
    schedule: d.schedule === null ? null : describeSchedule(d.schedule),
    eventTrigger: d.eventTrigger === null ? null : { event: d.eventTrigger.event, match: d.eventTrigger.match },
    metricTrigger:
      d.metricTrigger === null ? null : { metric: d.metricTrigger.metric, above: d.metricTrigger.above, below: d.metricTrigger.below, forMs: d.metricTrigger.forMs },
    parameters: d.parameters,
    overlap: d.overlap,
    paused: d.paused,
    catchupWindowMs: d.catchupWindowMs,
    maxActiveRuns: d.maxActiveRuns,
    jitterMs: d.jitterMs,
    description: d.description,
    lastFireMs: d.lastFireMs,
    // A paused deployment's cursor moves to "now" on resume, so its upcoming fires are not meaningful.
    nextFireTimesMs: d.paused ? [] : deployments.upcoming(d, count),
  };
}

export function deploymentsRoutes(options: { deployments: Deployments | undefined }): RouteModule {
  const lane = (): Deployments => requireLane(options.deployments, 'deployment scheduler');
  return {
    name: 'deployments',
    routes: [
      defineRoute({
        method: 'GET',
        path: '/api/deployments',
        access: 'viewer',
        summary: 'Deployments with their schedule, triggers and next fire times.',
        tags: ['deployments'],
        response: { schema: z.object({ deployments: z.array(deploymentSchema) }) },
        handler: async () => {
          const deployments = lane();
          return { deployments: (await deployments.list()).map((d) => view(deployments, d, 3)) };
        },
      }),
      defineRoute({
        method: 'GET',
        path: '/api/deployments/:name',
        access: 'viewer',
        summary: 'One deployment with its next 10 fire times and its 50 most recent fires.',
        tags: ['deployments'],
        params: nameParams,
        response: { schema: deploymentSchema.extend({ recentFires: z.array(fireSchema) }) },
        handler: async ({ params }) => {
          const deployments = lane();
          const deployment = await deployments.get(params.name);
          const fires = await deployments.history(params.name, { limit: 50 });
          return { ...view(deployments, deployment, 10), recentFires: fires };
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/api/deployments/:name/pause',
        access: 'operator',
        summary: 'Pause a deployment: no scheduled, event or metric fires until resumed.',
        tags: ['deployments'],
        params: nameParams,
        response: { schema: deploymentSchema },
        handler: async ({ params }) => view(lane(), await lane().pause(params.name), 3),
      }),
      defineRoute({
        method: 'POST',
        path: '/api/deployments/:name/resume',
        access: 'operator',
        summary: 'Resume a deployment; fires that fell while paused are dropped (use backfill to run them).',
        tags: ['deployments'],
        params: nameParams,
        response: { schema: deploymentSchema },
        handler: async ({ params }) => view(lane(), await lane().resume(params.name), 3),
      }),
      defineRoute({
        method: 'POST',
        path: '/api/deployments/:name/trigger',
        access: 'operator',
        summary: 'Start a run now (a manual fire; the overlap policy applies unless overridden).',
        tags: ['deployments'],
        params: nameParams,
        body: z
          .object({
            parameters: z.record(z.string(), z.unknown()).optional().describe("Merged over the deployment's parameters for this run."),
            overlap: z.enum(Object.values(OverlapPolicy)).optional(),
          })
          .strict(),
        response: {
          status: 202,
          schema: z.object({ fireKey: z.string(), state: z.string(), runId: z.string().nullable(), reason: z.string().nullable() }),
        },
        handler: async ({ params, body }) =>
          lane().trigger(params.name, {
            ...(body.parameters === undefined ? {} : { parameters: body.parameters }),
            ...(body.overlap === undefined ? {} : { overlap: body.overlap }),
          }),
      }),
      defineRoute({
        method: 'POST',
        path: '/api/deployments/:name/backfill',
        access: 'operator',
        summary: 'Create runs for every scheduled fire in a past range (idempotent; bounded by maxActiveRuns).',
        tags: ['deployments'],
        params: nameParams,
        body: z
          .object({
            from: instant.describe('First instant (inclusive): ISO 8601 or epoch ms.'),
            to: instant.describe('Last instant (inclusive), not in the future.'),
            maxFires: z.number().int().positive().max(100_000).optional().describe('Refuse ranges with more fires. Default 10000.'),
          })
          .strict(),
        response: {
          schema: z.object({ done: z.number(), total: z.number(), started: z.number(), buffered: z.number(), existing: z.number(), failed: z.number() }),
        },
        handler: async ({ params, body }) =>
          lane().backfill(params.name, { fromMs: toMs(body.from, 'from'), toMs: toMs(body.to, 'to'), maxFires: body.maxFires ?? 10_000 }),
      }),
    ],
  };
}
