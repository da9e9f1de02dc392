import { z } from 'zod';
import type { DeadLetter, Job, QueueProvider } from '../../queue/contract.js';
import { QueueJobNotFoundError, QueueNotFoundError, toError } from '../../errors.js';
import { defineRoute, type RouteModule } from '../route.js';
import { nameParam, requireLane, workersSchema, type QueueLaneView, type WorkersView } from './lanes.js';

/**
 * Queues: depth per queue, dead letters (list, show, replay, purge), jobs by state where the
 * provider can list them (database providers), and the workers with their in-flight jobs and leases.
 * A queue is named by its name; `?provider=` picks one when two providers carry the same name.
 */

const jobSchema = z.object({
  id: z.string(),
  queue: z.string(),
  name: z.string(),
  payload: z.unknown(),
  dedupKey: z.string().nullable(),
  priority: z.number(),
  runAtMs: z.number(),
  attempt: z.number(),
  maxAttempts: z.number(),
  timeoutMs: z.number().nullable(),
  metadata: z.record(z.string(), z.unknown()),
  createdAtMs: z.number(),
  lastError: z.string().nullable(),
});

const deadLetterSchema = z.object({ job: jobSchema, error: z.string(), deadAtMs: z.number() });

const statsSchema = z.object({
  queue: z.string(),
  provider: z.string(),
  waiting: z.number(),
  active: z.number(),
  delayed: z.number(),
  dead: z.number(),
  oldestWaitingAgeMs: z.number().nullable(),
  inspectable: z.boolean().describe('Whether jobs can be listed by state (database providers).'),
  error: z.string().nullable().describe('Set when the provider could not answer.'),
});

const queueParams = z.object({ queue: nameParam });
const providerQuery = z.object({ provider: nameParam.optional().describe('Which provider, when two carry this queue name.') });
const idsBody = z.object({ ids: z.array(nameParam).max(10_000).optional().describe('Omit for all.') }).strict();

function jobView(job: Job): z.input<typeof jobSchema> {
  return {
    id: job.id,
    queue: job.queue,
    name: job.name,
    payload: job.payload,
    dedupKey: job.dedupKey,
    priority: job.priority,
    runAtMs: job.runAtMs,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
    timeoutMs: job.timeoutMs,
    metadata: job.metadata,
    createdAtMs: job.createdAtMs,
    lastError: job.lastError,
  };
}

const deadView = (dead: DeadLetter): z.input<typeof deadLetterSchema> => ({ job: jobView(dead.job), error: dead.error, deadAtMs: dead.deadAtMs });

export function queuesRoutes(options: { queue: QueueLaneView | undefined; workers: (() => Promise<WorkersView>) | undefined }): RouteModule {
  const lane = (): QueueLaneView => requireLane(options.queue, 'queue lane');
  const find = (queue: string, provider: string | undefined): QueueProvider => {
    const known = lane().queues();
    const match = known.find((q) => q.queue === queue && (provider === undefined || q.provider.name === provider));
    if (match === undefined) {
      throw new QueueNotFoundError(
        `No queue '${queue}'${provider === undefined ? '' : ` on provider '${provider}'`} is known here (known: ${known.map((q) => `${q.provider.name}:${q.queue}`).join(', ') || 'none'}).`,
        { details: { queue, provider: provider ?? null } },
      );
    }
    return match.provider;
  };
  return {
    name: 'queues',
    routes: [
      defineRoute({
        method: 'GET',
        path: '/api/queues',
        access: 'viewer',
        summary: 'Every known queue with its depth: waiting, active, delayed, dead, oldest waiting age.',
        tags: ['queues'],
        response: { schema: z.object({ queues: z.array(statsSchema) }) },
        handler: async () => ({
          queues: await Promise.all(
            lane()
              .queues()
              .map(async ({ provider, queue }) => {
                const base = { queue, provider: provider.name, inspectable: provider.capabilities.inspect };
                try {
                  const stats = await provider.stats(queue);
                  return { ...base, ...stats, queue, error: null };
                } catch (error) {
                  return { ...base, waiting: 0, active: 0, delayed: 0, dead: 0, oldestWaitingAgeMs: null, error: toError(error).message };
                }
              }),
          ),
        }),
      }),
      defineRoute({
        method: 'GET',
        path: '/api/queues/:queue/dead-letters',
        access: 'viewer',
        summary: 'Dead letters of a queue, newest first.',
        tags: ['queues'],
        params: queueParams,
        query: providerQuery.extend({
          limit: z.coerce.number().int().min(1).max(500).optional().describe('Default 50.'),
          offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
        }),
        response: { schema: z.object({ deadLetters: z.array(deadLetterSchema) }) },
        handler: async ({ params, query }) => {
          const provider = find(params.queue, query.provider);
          const list = await provider.listDeadLetters(params.queue, { limit: query.limit ?? 50, offset: query.offset ?? 0 });
          return { deadLetters: list.map(deadView) };
        },
      }),
      defineRoute({
        method: 'GET',
        path: '/api/queues/:queue/dead-letters/:id',
        access: 'viewer',
        summary: 'One dead letter: the job, its payload and the error that killed it.',
        tags: ['queues'],
        params: queueParams.extend({ id: nameParam }),
        query: providerQuery,
        response: { schema: deadLetterSchema },
        handler: async ({ params, query }) => {
          const dead = await find(params.queue, query.provider).getDeadLetter(params.queue, params.id);
          if (dead === null) throw new QueueJobNotFoundError(`No dead letter '${params.id}' in queue '${params.queue}'.`, { details: { queue: params.queue, id: params.id } });
          return deadView(dead);
        },
      }),
      defineRoute({
        method: 'POST',
        path: '/api/queues/:queue/dead-letters/replay',
        access: 'operator',
        summary: 'Re-enqueue dead letters with their attempts reset (`ids` omitted: all of them).',
        tags: ['queues'],
        params: queueParams,
        query: providerQuery,
        body: idsBody,
        response: { schema: z.object({ replayed: z.number() }) },
        handler: async ({ params, query, body }) => ({ replayed: await find(params.queue, query.provider).replayDeadLetters(params.queue, body.ids) }),
      }),
      defineRoute({
        method: 'DELETE',
        path: '/api/queues/:queue/dead-letters',
        access: 'admin',
        summary: 'Delete dead letters for good (`ids` omitted: purge all).',
        tags: ['queues'],
        params: queueParams,
        query: providerQuery,
        body: idsBody,
        response: { schema: z.object({ purged: z.number() }) },
        handler: async ({ params, query, body }) => ({ purged: await find(params.queue, query.provider).purgeDeadLetters(params.queue, body.ids) }),
      }),
      defineRoute({
        method: 'GET',
        path: '/api/queues/:queue/jobs',
        access: 'viewer',
        summary: 'Jobs of a queue in one state, where the provider keeps job state (sqlite, postgres, redis).',
        tags: ['queues'],
        params: queueParams,
        query: providerQuery.extend({
          state: z.enum(['waiting', 'delayed', 'active', 'dead']).optional().describe('Default waiting.'),
          limit: z.coerce.number().int().min(1).max(500).optional().describe('Default 50.'),
          offset: z.coerce.number().int().min(0).max(1_000_000).optional(),
        }),
        response: { schema: z.object({ inspectable: z.boolean(), state: z.string(), jobs: z.array(jobSchema) }) },
        handler: async ({ params, query }) => {
          const provider = find(params.queue, query.provider);
          const state = query.state ?? 'waiting';
          if (!provider.capabilities.inspect || provider.listJobs === undefined) return { inspectable: false, state, jobs: [] };
          const jobs = await provider.listJobs(params.queue, state, { limit: query.limit ?? 50, offset: query.offset ?? 0 });
          return { inspectable: true, state, jobs: jobs.map(jobView) };
        },
      }),
      defineRoute({
        method: 'GET',
        path: '/api/workers',
        access: 'viewer',
        summary: 'Queue workers of this process with their in-flight jobs, and engine workers holding run leases (any process).',
        tags: ['queues', 'runs'],
        response: { schema: workersSchema },
        handler: () => requireLane(options.workers, 'worker registry')(),
      }),
    ],
  };
}
