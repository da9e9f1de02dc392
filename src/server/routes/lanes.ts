import { z } from 'zod';
import type { Deployments } from '../../engine/deployments/deployments.js';
import type { EventBus } from '../../engine/events/event-bus.js';
import type { Engine } from '../../engine/runtime/engine.js';
import type { RunKind, RunRecord } from '../../engine/types.js';
import type { LocalScheduler } from '../../local/scheduler.js';
import type { QueueProvider } from '../../queue/contract.js';
import { RouteNotFoundError } from '../../errors.js';

/**
 * What the lane route modules read and act on. Every lane is optional: the route table is the same
 * whatever runs behind it (so docs/openapi.json and the auth tests cover every route), and a route
 * whose lane is not running in this process answers 404 saying so — never a 5xx.
 *
 * `createKairos` fills all of it; an embedding application may pass only the lanes it has.
 */
export interface LaneApis {
  local?: LocalScheduler;
  engine?: Engine;
  deployments?: Deployments;
  bus?: EventBus;
  queue?: QueueLaneView;
  /** Keyset-paginated run listing over the store (see src/app/run-listing.ts). */
  runs?: RunPager;
  /** Per-lane counts for /api/overview (see src/app/overview.ts). */
  overview?: () => Promise<Overview>;
  /** Workers and their leases for /api/workers. */
  workers?: () => Promise<WorkersView>;
}

/** The queues this process knows, each on its provider. */
export interface QueueLaneView {
  /** Queues served by this process's workers or named in its options, with their provider. */
  queues(): ReadonlyArray<{ provider: QueueProvider; queue: string }>;
}

export interface RunPageRequest {
  kind?: RunKind;
  name?: string;
  state?: string;
  /** 1..500. */
  limit: number;
  /** The `nextCursor` of the previous page. */
  cursor?: string;
}

export interface RunPager {
  /** Newest first; `nextCursor` is null on the last page. Throws InvalidRequestError on a bad cursor. */
  page(request: RunPageRequest): Promise<{ runs: RunRecord[]; nextCursor: string | null }>;
  /** The step keys and states of several runs in one query (the flow grid), without inputs and outputs. */
  stepStates?(runIds: readonly string[]): Promise<Array<{ runId: string; key: string; state: string }>>;
}

/** Throws a 404 naming the lane when it is not running here. */
export function requireLane<T>(value: T | undefined, lane: string): T {
  if (value === undefined) {
    throw new RouteNotFoundError(`The ${lane} is not running in this server, so this route has nothing to serve.`, { details: { lane } });
  }
  return value;
}

// ---- shared schemas ----

export const nameParam = z.string().min(1).max(200);

const errorSchema = z.object({ name: z.string(), message: z.string(), code: z.string().optional(), stack: z.string().optional() }).nullable();

export const runSchema = z.object({
  id: z.string(),
  kind: z.enum(['flow', 'workflow']),
  name: z.string(),
  state: z.string(),
  params: z.unknown(),
  queue: z.string(),
  parentRunId: z.string().nullable(),
  deploymentId: z.string().nullable(),
  tags: z.array(z.string()),
  attempt: z.number(),
  createdMs: z.number(),
  scheduledMs: z.number(),
  startedMs: z.number().nullable(),
  endedMs: z.number().nullable(),
  durationMs: z.number().nullable(),
  leaseOwner: z.string().nullable(),
  leaseUntilMs: z.number().nullable(),
  wakeMs: z.number().nullable(),
  error: errorSchema,
  result: z.unknown(),
});

export function toRunView(run: RunRecord): z.input<typeof runSchema> {
  return {
    id: run.id,
    kind: run.kind,
    name: run.name,
    state: run.state,
    params: run.params,
    queue: run.queue,
    parentRunId: run.parentRunId,
    deploymentId: run.deploymentId,
    tags: run.tags,
    attempt: run.attempt,
    createdMs: run.createdMs,
    scheduledMs: run.scheduledMs,
    startedMs: run.startedMs,
    endedMs: run.endedMs,
    durationMs: run.startedMs !== null && run.endedMs !== null ? run.endedMs - run.startedMs : null,
    leaseOwner: run.leaseOwner,
    leaseUntilMs: run.leaseUntilMs,
    wakeMs: run.wakeMs,
    error: run.error,
    result: run.result,
  };
}

const stateCounts = z.record(z.string(), z.number());

/** Where a number on the overview comes from: the store (every process, survives restarts), this process's memory since it started, or the queue provider, live. */
const countSource = z.enum(['store', 'process', 'provider']);

export const laneOverviewSchema = z.object({
  lane: z.enum(['local', 'queue', 'flow', 'workflow']),
  running: z.boolean(),
  lastHour: stateCounts.describe('Runs in the last hour by state: flow/workflow runs created in it (current state, from the store); local and queue runs finished in it, as this process saw them since processStartedMs.'),
  last24h: stateCounts.describe('The same over the last 24 hours.'),
  failures24h: z.number().describe('flow/workflow: Failed + TimedOut + Crashed runs (store); queue: jobs dead-lettered (store, or this process for Redis); local: failed runs this process ran.'),
  late24h: z.number().describe('Fires that started more than 1 s after their time: deployments from the store (schedule_fires), local jobs as this process ran them.'),
  missed24h: z.number().describe('Fires missed beyond their grace time: deployments from the store, local jobs in this process.'),
  misfits: z.number().describe('local: jobs currently flagged as misfits.'),
  queueDepth: z.object({ waiting: z.number(), active: z.number(), delayed: z.number(), dead: z.number() }).nullable().describe('queue: live from the provider (stats()).'),
  sources: z
    .object({ runs: countSource, failures: countSource, late: countSource.nullable(), missed: countSource.nullable(), depth: countSource.nullable() })
    .describe('Where each number of this lane comes from.'),
});

export const overviewSchema = z.object({
  generatedAtMs: z.number(),
  processStartedMs: z.number().describe("Since when this process's in-memory counts (sources 'process') run: they reset on restart and cover this process only."),
  leader: z.boolean().describe('Whether this process leads deployment scheduling.'),
  lanes: z.array(laneOverviewSchema),
});
export type Overview = z.input<typeof overviewSchema>;

export const workersSchema = z.object({
  queueWorkers: z.array(
    z.object({
      id: z.string(),
      provider: z.string(),
      queues: z.array(z.string()),
      running: z.boolean(),
      concurrency: z.number(),
      leaseMs: z.number(),
      inFlight: z.array(
        z.object({
          jobId: z.string(),
          queue: z.string(),
          name: z.string(),
          attempt: z.number(),
          startedAtMs: z.number(),
          leaseUntilMs: z.number().nullable().describe('From the store for database providers; null when the broker holds the lease.'),
        }),
      ),
    }),
  ),
  engineWorkers: z.array(
    z.object({
      id: z.string(),
      local: z.boolean().describe('This process.'),
      runs: z.array(z.object({ runId: z.string(), name: z.string(), kind: z.string(), leaseUntilMs: z.number().nullable() })),
    }),
  ),
});
export type WorkersView = z.input<typeof workersSchema>;
