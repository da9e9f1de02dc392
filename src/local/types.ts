import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Lane, RunState } from '../core/states.js';
import type { Trigger } from '../core/triggers/trigger.js';
import type { Store } from '../store/store.js';

/** What a local job receives on every run. */
export interface JobContext {
  /** Aborts when the run times out (`timeoutMs`) or the scheduler stops past its deadline. */
  readonly signal: AbortSignal;
  readonly jobId: string;
  /** The fire time this run stands for, as the trigger computed it (before jitter), epoch ms. */
  readonly scheduledMs: number;
  /** Always 1: the local lane does not retry (use the queue lane for retries). */
  readonly attempt: number;
}

/** A local job: any function, sync or async. Its return value is kept as `lastResult` (JSON-safe). */
export type JobFn = (context: JobContext) => unknown;

/** Per-job options shared by `addJob`, `every`, `cron` and `at`. */
export interface JobOptions {
  /** Stable id. Default: a random UUID. Required for `persistent` jobs. */
  id?: string;
  /** Display name. Default: the function's name, else the id. */
  name?: string;
  /**
   * How late a fire may start and still run; later than this it is Missed. `null` = no limit.
   * Default: the scheduler's `defaults.misfireGraceTimeMs` (1000, as APScheduler 3's 1 s).
   */
  misfireGraceTimeMs?: number | null;
  /** Collapse a backlog of due fires into one run. Default: the scheduler's (true). */
  coalesce?: boolean;
  /** Runs of this job allowed at once; a fire beyond it is skipped and reported. Default: the scheduler's (1). */
  maxInstances?: number;
  /** Random delay added to each fire, in [0, jitterMs], never past the next fire. Default 0. */
  jitterMs?: number;
  /** Abort the run (its signal) and mark it TimedOut after this long. Default: no timeout. */
  timeoutMs?: number;
  /** A run longer than this is a misfit for the local lane. Default: the scheduler's `budgetMs` (5000). */
  budgetMs?: number;
  /** Replace a job with the same id instead of throwing DuplicateJobError. Default false. */
  replaceExisting?: boolean;
  /** Add the job paused: it keeps its schedule but does not fire until resumed. Default false. */
  paused?: boolean;
  /**
   * Keep this job's schedule and counters in the scheduler's store, so a restart resumes it (the
   * function itself is registered again by your code at start-up, under the same id). Default false.
   */
  persistent?: boolean;
}

/** `addJob` takes the trigger explicitly; `every`, `cron` and `at` build it for you. */
export interface AddJobOptions extends JobOptions {
  trigger: Trigger;
}

/** Fields `modifyJob` can change (not the trigger: use `rescheduleJob`). */
export type JobChanges = Partial<
  Pick<JobOptions, 'name' | 'misfireGraceTimeMs' | 'coalesce' | 'maxInstances' | 'jitterMs' | 'timeoutMs' | 'budgetMs'>
> & { fn?: JobFn };

/** Defaults applied to every job that does not set its own. */
export interface JobDefaults {
  /** Default 1000 (APScheduler 3: `misfire_grace_time = 1`). `null` = no limit. */
  misfireGraceTimeMs?: number | null;
  /** Default true (APScheduler 3: `coalesce = True`). */
  coalesce?: boolean;
  /** Default 1 (APScheduler 3: `max_instances = 1`). */
  maxInstances?: number;
}

export interface LocalSchedulerOptions {
  /** Default `systemClock`. Tests pass a fake clock. */
  clock?: Clock;
  /** Default `silentLogger`: the library never writes to the console. */
  logger?: Logger;
  /** Where `persistent: true` jobs keep their schedule. Default: none (nothing persists). */
  store?: Store;
  /** Defaults for jobs that do not set their own. */
  defaults?: JobDefaults;
  /** A run longer than this is reported as a misfit (the seed's "< 5 seconds" rule). Default 5000. */
  budgetMs?: number;
  /**
   * A job whose synchronous part runs longer than this blocks the event loop and is reported as a
   * misfit; a lag probe also watches the loop while the scheduler runs. Default 200. `null` disables both.
   */
  eventLoopBlockMs?: number | null;
  /** Random source for jitter, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /**
   * Start each fire on its exact millisecond. Node's timers wake 0–1 ms after the millisecond they
   * are set for (p50 ~0.7 ms); with this on, the scheduler wakes in the millisecond or two before a
   * fire and sleeps the rest with `Atomics.wait` — no CPU, but the event loop is held up to 2 ms
   * (about 1 ms on average) before each fire pass. Turn it off to never hold the loop. Only applies
   * with the system clock (an injected clock's own timers are used as they are). Default true.
   */
  exactTimers?: boolean;
}

/** Why a job does not belong in the local lane. */
export const MisfitReason = {
  OverBudget: 'over-budget',
  BlockedLoop: 'blocked-loop',
} as const;
export type MisfitReason = (typeof MisfitReason)[keyof typeof MisfitReason];

/** A JSON-safe description of an error, as kept in `lastError` and in the store. */
export interface ErrorSummary {
  name: string;
  message: string;
  code?: string;
}

/** The state of one job, as `getJob`/`listJobs` report it. A snapshot: it does not change under you. */
export interface JobStatus {
  id: string;
  name: string;
  /** The trigger's description (`every 30s`, `cron 0 2 * * * UTC`). */
  trigger: string;
  /** The next fire (after jitter), or null when paused or finished. */
  nextRunMs: number | null;
  paused: boolean;
  persistent: boolean;
  runCount: number;
  missedCount: number;
  /** Fires skipped because `maxInstances` runs were already going. */
  skippedCount: number;
  lastRunMs: number | null;
  lastResult: unknown;
  lastError: ErrorSummary | null;
  /** Runs in progress now. */
  running: number;
  /** Scheduled (waiting), Running, or how the last fire ended: Completed, Failed, TimedOut, Missed, Cancelled. */
  state: RunState;
  /**
   * Runs that timed out (`timeoutMs`) but whose function is still going: the scheduler aborted their
   * signal and freed their `maxInstances` slot, but JavaScript cannot stop a function that ignores
   * its signal. Back to 0 when they return.
   */
  timedOutRunning: number;
  /** `state` for people: `TimedOut (still running)` while `timedOutRunning > 0`, else the same as `state`. */
  stateLabel: string;
  misfit: boolean;
  misfitReason: string | null;
  /** The job's effective settings, defaults applied. */
  settings: JobSettings;
}

/** A job's settings after defaults: what the scheduler actually applies. */
export interface JobSettings {
  misfireGraceTimeMs: number | null;
  coalesce: boolean;
  maxInstances: number;
  jitterMs: number;
  timeoutMs: number | null;
  budgetMs: number;
}

/** What `stop()` did with runs still going when it was called. */
export interface StopReport {
  /** Runs that finished on their own before the deadline. */
  finishedRuns: number;
  /** Runs aborted at the deadline (their signal fired); their promises were not awaited further. */
  abortedRuns: { jobId: string; name: string; scheduledMs: number; runningMs: number }[];
}

interface JobRef {
  jobId: string;
  name: string;
}

/** Every event the local scheduler emits, with its payload. */
export type LocalSchedulerEvents = {
  scheduler_started: { atMs: number; jobCount: number };
  scheduler_stopped: { atMs: number; report: StopReport };
  scheduler_paused: { atMs: number };
  scheduler_resumed: { atMs: number };
  job_added: JobRef & { trigger: string; nextRunMs: number | null };
  job_removed: JobRef & { reason: 'removed' | 'replaced' | 'finished' };
  job_modified: JobRef & { changes: string[]; nextRunMs: number | null };
  job_paused: JobRef;
  job_resumed: JobRef & { nextRunMs: number | null };
  /** A fire was handed to the job function. `lateMs` = start − due time (after jitter). */
  job_submitted: JobRef & { scheduledMs: number; lateMs: number };
  job_executed: JobRef & { scheduledMs: number; lateMs: number; durationMs: number; result: unknown };
  job_error: JobRef & {
    scheduledMs: number;
    lateMs: number;
    durationMs: number;
    error: Error;
    state: 'Failed' | 'TimedOut' | 'Cancelled';
  };
  /**
   * Fires that did not run: later than the grace time, or collapsed by `coalesce`. `count` fires,
   * from `scheduledMs` (the first of them) on; `lateMs` is how late the first one was.
   */
  job_missed: JobRef & { scheduledMs: number; lateMs: number; count: number; coalesced: boolean };
  job_max_instances: JobRef & { scheduledMs: number; running: number; maxInstances: number };
  job_misfit: JobRef & {
    reason: MisfitReason;
    durationMs: number;
    limitMs: number;
    suggestedLane: Lane;
    message: string;
  };
  /** Writing a persistent job to the store failed; the job keeps running in memory. */
  store_error: { operation: string; jobId: string | null; error: Error };
};
