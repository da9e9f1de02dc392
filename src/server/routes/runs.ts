import { z } from 'zod';
import { RunState } from '../../core/states.js';
import type { Engine } from '../../engine/runtime/engine.js';
import { defineRoute, type RouteModule } from '../route.js';
import { nameParam, requireLane, runSchema, toRunView, type RunPager } from './lanes.js';

/**
 * Flow and workflow runs: a keyset-paginated list (newest first; `nextCursor` continues it, so a page
 * costs the same at run 100 000 as at run 1), one run with its journal and timeline, cancel, retry,
 * and signals.
 */

const recordedError = z.object({ name: z.string(), message: z.string(), code: z.string().optional(), stack: z.string().optional() }).nullable();

const logSchema = z.object({ atMs: z.number(), level: z.string().nullable(), message: z.string().nullable(), data: z.unknown() });

const stepSchema = z.object({
  key: z.string(),
  kind: z.string(),
  state: z.string(),
  attempt: z.number(),
  input: z.unknown(),
  output: z.unknown(),
  error: recordedError,
  queue: z.string().nullable(),
  cached: z.boolean(),
  wakeMs: z.number().nullable(),
  startedMs: z.number().nullable(),
  endedMs: z.number().nullable(),
  durationMs: z.number().nullable(),
  logs: z.array(logSchema),
});

const timelineSchema = z.object({
  id: z.number(),
  type: z.string(),
  stepKey: z.string().nullable(),
  state: z.string().nullable(),
  level: z.string().nullable(),
  message: z.string().nullable(),
  data: z.unknown(),
  atMs: z.number(),
});

const idParams = z.object({ id: nameParam });

export function runsRoutes(options: { engine: Engine | undefined; runs: RunPager | undefined }): RouteModule {
  const engine = (): Engine => requireLane(options.engine, 'flow and workflow engine');
  return {
    name: 'runs',
    routes: [
      defineRoute({
        method: 'GET',
        path: '/api/runs',
        access: 'viewer',
        summary: 'Flow and workflow runs, newest first, keyset-paginated.',
        tags: ['runs'],
        query: z.object({
          kind: z.enum(['flow', 'workflow']).optional(),
          name: nameParam.optional(),
          state: z.enum(Object.values(RunState)).optional(),
          limit: z.coerce.number().int().min(1).max(500).optional().describe('Default 50.'),
          cursor: z.string().min(1).max(500).optional().describe('`nextCursor` of the previous page.'),
        }),
        response: { schema: z.object({ runs: z.array(runSchema), nextCursor: z.string().nullable() }) },
        handler: async ({ query }) => {
          const pager = requireLane(options.runs, 'run listing');
          const page = await pager.page({
            limit: query.limit ?? 50,
            ...(query.kind === undefined ? {} : { kind: query.kind }),
            ...(query.name === undefined ? {} : { name: query.name }),
            ...(query.state === undefined ? {} : { state: query.state }),
            ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
          });
          return { runs: page.runs.map(toRunView), nextCursor: page.nextCursor };
        },
      }),
      defineRoute({
        method: 'GET',
        path: '/api/runs/:id',
        access: 'viewer',
        summary: 'One run: its steps (inputs, outputs, attempts, errors with stack, timing, logs) and its timeline.',
        tags: ['runs'],
        params: idParams,
        response: { schema: z.object({ run: runSchema, steps: z.array(stepSchema), timeline: z.array(timelineSchema), children: z.array(runSchema) }) },
        handler: async ({ params }) => {
          const lane = engine();
          const run = await lane.getRun(params.id);
          const [steps, events, children] = await Promise.all([lane.listSteps(run.id), lane.listEvents(run.id), lane.listRuns({ parentRunId: run.id, limit: 100 })]);
          const logsByStep = new Map<string, z.input<typeof logSchema>[]>();
          for (const event of events) {
            if (event.type !== 'log' || event.stepKey === null) continue;
            const list = logsByStep.get(event.stepKey) ?? [];
            list.push({ atMs: event.atMs, level: event.level, message: event.message, data: event.data });
            logsByStep.set(event.stepKey, list);
          }
          return {
            run: toRunView(run),
            steps: steps.map((step) => ({
              key: step.key,
              kind: step.kind,
              state: step.state,
              attempt: step.attempt,
              input: step.input,
              output: step.output,
              error: step.error,
              queue: step.queue,
              cached: step.cached,
              wakeMs: step.wakeMs,
              startedMs: step.startedMs,
              endedMs: step.endedMs,
              durationMs: step.startedMs !== null && step.endedMs !== null ? step.endedMs - step.startedMs : null,
              logs: logsByStep.get(step.key) ?? [],
            })),
            timeline: events.map((e) => ({ id: e.id, type: e.type, stepKey: e.stepKey, state: e.state, level: e.level, message: e.message, data: e.data, atMs: e.atMs })),
            children: children.map(toRunView),
          };
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/api/runs/:id/cancel',
        access: 'operator',
        summary: 'Cancel a run and its child runs (a finished run is left as it is).',
        tags: ['runs'],
        params: idParams,
        response: { schema: runSchema },
        handler: async ({ params }) => {
          const lane = engine();
          await lane.cancel(params.id);
          return toRunView(await lane.getRun(params.id));
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/api/runs/:id/retry',
        access: 'operator',
        summary: 'Run a Failed, TimedOut, Cancelled or Crashed run again, replaying its completed steps.',
        tags: ['runs'],
        params: idParams,
        response: { schema: runSchema },
        handler: async ({ params }) => {
          const lane = engine();
          await lane.retry(params.id);
          return toRunView(await lane.getRun(params.id));
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/api/runs/:id/signals',
        access: 'operator',
        summary: 'Send a signal to a workflow run (buffered until its waitForSignal(name) takes it).',
        tags: ['runs'],
        params: idParams,
        body: z.object({ name: nameParam, payload: z.unknown().optional() }).strict(),
        response: { status: 202, schema: z.object({ accepted: z.literal(true) }) },
        handler: async ({ params, body }) => {
          await engine().signal(params.id, body.name, body.payload);
          return { accepted: true as const };
        },
      }),
    ],
  };
}
