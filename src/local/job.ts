import { RunState } from '../core/states.js';
import type { Trigger } from '../core/triggers/trigger.js';
import { KairosError, toError } from '../errors.js';
import type { HeapEntry } from './heap.js';
import type { RunOutcome } from './job-handle.js';
import type { ResolvedJobSettings } from './options.js';
import type { ErrorSummary, JobContext, JobFn, JobStatus } from './types.js';

/**
 * One registered job: its function, trigger, settings and counters. A plain mutable record owned by
 * the scheduler; callers only ever see `JobStatus` snapshots of it. Kept small on purpose — 100,000
 * of these must fit in well under 150 MB.
 */
export class LocalJob implements HeapEntry {
  dueMs = 0;
  heapSeq = 0;
  heapIndex = -1;
  /** The trigger's fire time (before jitter) that `dueMs` stands for; null when not scheduled. */
  fireMs: number | null = null;
  paused = false;
  runCount = 0;
  missedCount = 0;
  skippedCount = 0;
  lastRunMs: number | null = null;
  lastResult: unknown = null;
  lastError: ErrorSummary | null = null;
  running = 0;
  /** Runs that timed out but whose function has not returned yet (JavaScript cannot stop a function). */
  timedOutRunning = 0;
  state: RunState = RunState.Scheduled;
  misfitReason: string | null = null;
  /** Reasons already logged at warn level, so a job that overruns every time logs once, not every run. */
  warnedMisfits: string[] | null = null;
  /** Added before `start()`: its first fire is recomputed at start if it has already gone by. */
  awaitingStart = false;
  /** A persistent job whose stored row has not been looked at yet (it was added before `start()`). */
  awaitingRestore = false;

  constructor(
    readonly id: string,
    public name: string,
    public fn: JobFn,
    public trigger: Trigger,
    public settings: ResolvedJobSettings,
    readonly persistent: boolean,
  ) {}

  /** Whether the job is scheduled at all (false when paused or when its trigger has no more fires). */
  get scheduled(): boolean {
    return this.fireMs !== null && !this.paused;
  }

  snapshot(): JobStatus {
    return {
      id: this.id,
      name: this.name,
      trigger: this.trigger.describe(),
      nextRunMs: this.scheduled ? this.dueMs : null,
      paused: this.paused,
      persistent: this.persistent,
      runCount: this.runCount,
      missedCount: this.missedCount,
      skippedCount: this.skippedCount,
      lastRunMs: this.lastRunMs,
      lastResult: this.lastResult,
      lastError: this.lastError,
      running: this.running,
      state: this.running > 0 ? RunState.Running : this.state,
      timedOutRunning: this.timedOutRunning,
      stateLabel:
        this.running > 0 ? RunState.Running : this.state === RunState.TimedOut && this.timedOutRunning > 0 ? 'TimedOut (still running)' : this.state,
      misfit: this.misfitReason !== null,
      misfitReason: this.misfitReason,
      settings: { ...this.settings },
    };
  }
}

/**
 * One run of a job, from the call to its settlement. It is also the context the job function
 * receives; the AbortController is created only when someone reads `signal` or the run must be
 * aborted, because most runs never need one and 10,000 fires a second should not pay for it.
 */
export class ActiveRun implements JobContext {
  readonly attempt = 1;
  readonly jobId: string;
  private controller: AbortController | null = null;
  settled = false;
  /** Settled as TimedOut while its function went on; cleared when the function finally returns. */
  timedOutStillRunning = false;
  timeoutTimer: unknown = null;
  budgetDeadlineMs: number;
  overBudgetReported = false;
  /** Set by `runJobNow`, which resolves its promise with the outcome. */
  onSettled: ((outcome: RunOutcome) => void) | null = null;

  constructor(
    readonly job: LocalJob,
    readonly scheduledMs: number,
    readonly lateMs: number,
    readonly startedMs: number,
  ) {
    this.jobId = job.id;
    // "Past the budget" is strictly longer than it: the first whole millisecond over.
    this.budgetDeadlineMs = startedMs + job.settings.budgetMs + 1;
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    return this.controller.signal;
  }

  abort(reason: Error): void {
    this.controller ??= new AbortController();
    this.controller.abort(reason);
  }
}

export function summarizeError(error: Error): ErrorSummary {
  const summary: ErrorSummary = { name: error.name, message: error.message };
  if (error instanceof KairosError) summary.code = error.code;
  return summary;
}

export { toError };

/**
 * Makes a job's return value safe to keep, show and store: plain JSON survives as is; anything JSON
 * cannot carry (a BigInt, a cycle, a function) becomes a short description instead of an error.
 */
export function toJsonSafe(value: unknown): unknown {
  if (value === undefined || value === null) return null;
  const kind = typeof value;
  if (kind === 'string' || kind === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  try {
    const text = JSON.stringify(value);
    return text === undefined ? null : (JSON.parse(text) as unknown);
  } catch {
    return `[unserialisable ${kind}]`;
  }
}
