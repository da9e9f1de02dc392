import { z } from 'zod';
import type { JobStatus } from '../../local/types.js';
import type { LocalScheduler } from '../../local/scheduler.js';
import { JobNotFoundError, toError } from '../../errors.js';
import { defineRoute, type RouteModule } from '../route.js';
import { nameParam, requireLane } from './lanes.js';

/** The local lane's jobs: list, inspect, pause, resume, run now. */

const jobSchema = z.object({
  id: z.string(),
  name: z.string(),
  trigger: z.string(),
  nextRunMs: z.number().nullable(),
  paused: z.boolean(),
  persistent: z.boolean(),
  state: z.string(),
  running: z.number(),
  runCount: z.number(),
  missedCount: z.number(),
  skippedCount: z.number(),
  lastRunMs: z.number().nullable(),
  lastResult: z.unknown(),
  lastError: z.object({ name: z.string(), message: z.string(), code: z.string().optional() }).nullable(),
  misfit: z.boolean(),
  misfitReason: z.string().nullable(),
  settings: z.object({
    misfireGraceTimeMs: z.number().nullable(),
    coalesce: z.boolean(),
    maxInstances: z.number(),
    jitterMs: z.number(),
    timeoutMs: z.number().nullable(),
    budgetMs: z.number(),
  }),
});

const idParams = z.object({ id: nameParam });

function mustGet(scheduler: LocalScheduler, id: string): JobStatus {
  const job = scheduler.getJob(id);
  if (job === undefined) throw new JobNotFoundError(`No local job with id '${id}'; GET /api/local/jobs lists them.`, { details: { jobId: id } });
  return job;
}

function view(job: JobStatus): z.input<typeof jobSchema> {
  return { ...job, lastError: job.lastError === null ? null : { ...job.lastError } };
}

export function localRoutes(options: { local: LocalScheduler | undefined }): RouteModule {
  const lane = (): LocalScheduler => requireLane(options.local, 'local lane');
  return {
    name: 'local',
    routes: [
      defineRoute({
        method: 'GET',
        path: '/api/local/jobs',
        access: 'viewer',
        summary: 'Local (in-process) jobs with their trigger, next fire and last outcome.',
        tags: ['local'],
        response: { schema: z.object({ jobs: z.array(jobSchema) }) },
        handler: () => ({ jobs: lane().listJobs().map(view) }),
      }),
      defineRoute({
        method: 'GET',
        path: '/api/local/jobs/:id',
        access: 'viewer',
        summary: 'One local job.',
        tags: ['local'],
        params: idParams,
        response: { schema: jobSchema },
        handler: ({ params }) => view(mustGet(lane(), params.id)),
      }),
      defineRoute({
        method: 'POST',
        path: '/api/local/jobs/:id/pause',
        access: 'operator',
        summary: 'Pause a local job (it keeps its schedule but does not fire).',
        tags: ['local'],
        params: idParams,
        response: { schema: jobSchema },
        handler: ({ params }) => view(lane().pauseJob(params.id)),
      }),
      defineRoute({
        method: 'POST',
        path: '/api/local/jobs/:id/resume',
        access: 'operator',
        summary: 'Resume a paused local job.',
        tags: ['local'],
        params: idParams,
        response: { schema: jobSchema },
        handler: ({ params }) => view(lane().resumeJob(params.id)),
      }),
      defineRoute({
        method: 'POST',
        path: '/api/local/jobs/:id/run',
        access: 'operator',
        summary: 'Run a local job once now; the outcome arrives on the event stream (local.job_executed / local.job_error).',
        tags: ['local'],
        params: idParams,
        response: { status: 202, schema: z.object({ accepted: z.literal(true), jobId: z.string() }) },
        handler: ({ params, request }) => {
          const scheduler = lane();
          mustGet(scheduler, params.id);
          // Not awaited: a job may run for seconds; the stream reports how it ended.
          scheduler.runJobNow(params.id).catch((error: unknown) => request.log.warn({ err: toError(error).message }, 'run now failed'));
          return { accepted: true as const, jobId: params.id };
        },
      }),
    ],
  };
}
