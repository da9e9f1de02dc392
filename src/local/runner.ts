import { performance } from 'node:perf_hooks';
import type { Clock, TimerHandle } from '../core/clock.js';
import { suggestLaneForMisfit } from '../core/decision-matrix.js';
import type { TypedEmitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { RunState } from '../core/states.js';
import { AbortedError, TimeoutError, toError } from '../errors.js';
import type { RunOutcome } from './job-handle.js';
import { ActiveRun, type LocalJob, summarizeError, toJsonSafe } from './job.js';
import { MisfitReason, type LocalSchedulerEvents, type StopReport } from './types.js';

/** setTimeout cannot wait longer than 2^31 − 1 ms. */
const MAX_TIMER_MS = 2_147_483_647;
/** With many jobs running during a loop block, blame at most this many (the log must stay readable). */
const MAX_BLAMED_JOBS = 10;

type RunEnd = 'Completed' | 'Failed' | 'TimedOut' | 'Cancelled';

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

export interface RunnerDeps {
  clock: Clock;
  logger: Logger;
  events: TypedEmitter<LocalSchedulerEvents>;
  eventLoopBlockMs: number | null;
  /** Writes a persistent job's row (a no-op for other jobs). */
  persist: (job: LocalJob) => void;
  /** Whether the scheduler is inside a fire pass (whose time it accounts for itself). */
  inPass: () => boolean;
}

/**
 * Runs jobs and watches the runs: calls the function, measures its synchronous part, settles the
 * outcome into the job's status and events, enforces `maxInstances` and `timeoutMs`, and enforces the
 * local lane's checklist (a run over budget, a blocked event loop) as misfits. The scheduler decides
 * *when* to run; this decides nothing about time except how long a run has taken.
 */
export class JobRunner {
  readonly activeRuns = new Set<ActiveRun>();
  /** Real time (ms) of loop blocking already accounted for since the last probe tick. */
  explainedLagMs = 0;
  private budgetTimer: TimerHandle | null = null;
  private budgetWakeMs = 0;
  private onDrained: (() => void) | null = null;
  private readonly onBudgetTimerBound = (): void => this.onBudgetTimer();

  constructor(private readonly deps: RunnerDeps) {}

  /** Resolves when no run is going, or after `deadlineMs` (a duration on the scheduler's clock). */
  waitForRuns(deadlineMs: number): Promise<void> {
    if (this.activeRuns.size === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const clock = this.deps.clock;
      const deadline = clock.setTimer(() => finish(), deadlineMs);
      const finish = (): void => {
        clock.clearTimer(deadline);
        this.onDrained = null;
        resolve();
      };
      this.onDrained = finish;
    });
  }

  /** Aborts every run still going (their signal fires), marks them Cancelled, and says which they were. */
  abortAll(deadlineMs: number): StopReport['abortedRuns'] {
    const nowMs = this.deps.clock.now();
    const aborted: StopReport['abortedRuns'] = [];
    for (const run of [...this.activeRuns]) {
      aborted.push({ jobId: run.jobId, name: run.job.name, scheduledMs: run.scheduledMs, runningMs: nowMs - run.startedMs });
      const error = new AbortedError(
        `job '${run.jobId}' was still running ${deadlineMs} ms after stop() and was aborted. Make it honour its signal, or give stop() a longer deadlineMs.`,
        { details: { jobId: run.jobId, deadlineMs } },
      );
      run.abort(error);
      this.settle(run, 'Cancelled', error);
    }
    if (this.budgetTimer !== null) this.deps.clock.clearTimer(this.budgetTimer);
    this.budgetTimer = null;
    return aborted;
  }

  /**
   * Starts one run of `job` for the fire at `scheduledMs` (due at `dueMs`, after jitter), unless
   * `maxInstances` runs are already going — then the fire is skipped and reported, and null returned.
   */
  submit(job: LocalJob, scheduledMs: number, dueMs: number, onSettled: ((outcome: RunOutcome) => void) | null): ActiveRun | null {
    const maxInstances = job.settings.maxInstances;
    if (job.running >= maxInstances) {
      job.skippedCount += 1;
      const payload = { jobId: job.id, name: job.name, scheduledMs, running: job.running, maxInstances };
      this.deps.logger.warn(payload, `job '${job.name}' skipped a fire: ${job.running} run(s) going, maxInstances ${maxInstances}`);
      this.deps.events.emit('job_max_instances', payload);
      return null;
    }
    const clock = this.deps.clock;
    const startedMs = clock.now();
    const run = new ActiveRun(job, scheduledMs, startedMs - dueMs, startedMs);
    run.onSettled = onSettled;
    job.running += 1;
    job.runCount += 1;
    job.lastRunMs = startedMs;
    // Per fire: build the payload only when someone listens (10,000 fires a second add up).
    const events = this.deps.events;
    if (events.hasListeners('job_submitted')) events.emit('job_submitted', { jobId: job.id, name: job.name, scheduledMs, lateMs: run.lateMs });

    const syncStartMs = performance.now();
    let value: unknown;
    try {
      value = job.fn(run);
    } catch (error) {
      this.afterSyncPart(run, performance.now() - syncStartMs);
      this.settle(run, 'Failed', error);
      return run;
    }
    this.afterSyncPart(run, performance.now() - syncStartMs);
    if (!isPromiseLike(value)) {
      this.settle(run, 'Completed', value);
      return run;
    }
    this.activeRuns.add(run);
    const timeoutMs = job.settings.timeoutMs;
    if (timeoutMs !== null) run.timeoutTimer = clock.setTimer(() => this.onRunTimeout(run, timeoutMs), timeoutMs);
    this.watchBudget(run);
    value.then(
      (result) => (run.timedOutStillRunning ? this.endAfterTimeout(run, 'returned') : this.settle(run, 'Completed', result)),
      (error: unknown) => (run.timedOutStillRunning ? this.endAfterTimeout(run, 'threw') : this.settle(run, 'Failed', error)),
    );
    return run;
  }

  /** The part of a job that ran before its first `await` held the event loop that long. */
  private afterSyncPart(run: ActiveRun, syncMs: number): void {
    if (!this.deps.inPass()) this.explainedLagMs += syncMs;
    const blockMs = this.deps.eventLoopBlockMs;
    if (blockMs !== null && syncMs > blockMs) {
      this.reportMisfit(
        run.job,
        MisfitReason.BlockedLoop,
        syncMs,
        blockMs,
        `its synchronous part held the event loop for ${Math.round(syncMs)} ms (limit ${blockMs} ms); every other job waited`,
      );
    }
  }

  settle(run: ActiveRun, end: RunEnd, value: unknown): void {
    if (run.settled) return;
    run.settled = true;
    const clock = this.deps.clock;
    if (run.timeoutTimer !== null) clock.clearTimer(run.timeoutTimer as TimerHandle);
    this.activeRuns.delete(run);
    const job = run.job;
    job.running = Math.max(0, job.running - 1);
    const durationMs = clock.now() - run.startedMs;
    if (!run.overBudgetReported && durationMs > job.settings.budgetMs) this.reportOverBudget(run, durationMs);
    let error: Error | null = null;
    let result: unknown = null;
    if (end === 'Completed') {
      result = toJsonSafe(value);
      job.lastResult = result;
      job.lastError = null;
      job.state = RunState.Completed;
      // Per fire: built in place, and only when someone listens.
      const events = this.deps.events;
      if (events.hasListeners('job_executed')) {
        events.emit('job_executed', { jobId: job.id, name: job.name, scheduledMs: run.scheduledMs, lateMs: run.lateMs, durationMs, result });
      }
    } else {
      error = toError(value);
      job.lastError = summarizeError(error);
      job.state = end;
      const payload = { jobId: job.id, name: job.name, scheduledMs: run.scheduledMs, lateMs: run.lateMs, durationMs, error, state: end };
      this.deps.logger.error({ ...payload, err: error }, `job '${job.name}' ${end === 'Failed' ? 'failed' : end === 'TimedOut' ? 'timed out' : 'was cancelled'}`);
      this.deps.events.emit('job_error', payload);
    }
    this.deps.persist(job);
    run.onSettled?.({ jobId: job.id, state: end, result, error, durationMs });
    if (this.activeRuns.size === 0) this.onDrained?.();
  }

  private onRunTimeout(run: ActiveRun, timeoutMs: number): void {
    run.timeoutTimer = null;
    const error = new TimeoutError(`job '${run.jobId}' ran past its timeoutMs (${timeoutMs} ms); its signal was aborted.`, {
      details: { jobId: run.jobId, timeoutMs },
    });
    // Until the function returns, the status says "TimedOut (still running)": aborting the signal
    // cannot stop a function that does not listen to it.
    run.timedOutStillRunning = true;
    run.job.timedOutRunning += 1;
    run.abort(error);
    this.settle(run, 'TimedOut', error);
  }

  /** A timed-out run's function has finally returned (or thrown): it no longer counts as still running. */
  private endAfterTimeout(run: ActiveRun, how: 'returned' | 'threw'): void {
    run.timedOutStillRunning = false;
    const job = run.job;
    job.timedOutRunning = Math.max(0, job.timedOutRunning - 1);
    const runningMs = this.deps.clock.now() - run.startedMs;
    this.deps.logger.info({ jobId: job.id, runningMs }, `job '${job.name}' ${how} ${runningMs} ms after it started, past its timeout; its outcome stays TimedOut`);
  }

  // ── the local lane's checklist, enforced at run time

  private watchBudget(run: ActiveRun): void {
    if (this.budgetTimer !== null && this.budgetWakeMs <= run.budgetDeadlineMs) return;
    this.armBudget(run.budgetDeadlineMs);
  }

  private armBudget(wakeMs: number): void {
    const clock = this.deps.clock;
    if (this.budgetTimer !== null) clock.clearTimer(this.budgetTimer);
    this.budgetWakeMs = wakeMs;
    this.budgetTimer = clock.setTimer(this.onBudgetTimerBound, Math.min(Math.max(wakeMs - clock.now(), 0), MAX_TIMER_MS));
  }

  private onBudgetTimer(): void {
    this.budgetTimer = null;
    const nowMs = this.deps.clock.now();
    let earliestMs = Number.POSITIVE_INFINITY;
    for (const run of this.activeRuns) {
      if (run.overBudgetReported) continue;
      if (run.budgetDeadlineMs <= nowMs) this.reportOverBudget(run, nowMs - run.startedMs);
      else earliestMs = Math.min(earliestMs, run.budgetDeadlineMs);
    }
    if (earliestMs !== Number.POSITIVE_INFINITY) this.armBudget(earliestMs);
  }

  private reportOverBudget(run: ActiveRun, durationMs: number): void {
    run.overBudgetReported = true;
    const budgetMs = run.job.settings.budgetMs;
    this.reportMisfit(
      run.job,
      MisfitReason.OverBudget,
      durationMs,
      budgetMs,
      `a run has taken ${durationMs} ms, past the local lane's budget of ${budgetMs} ms`,
    );
  }

  /**
   * The probe saw the loop held for `lagMs`. Time spent in fire passes (which measure each job's
   * synchronous part themselves) explains part of it; a block beyond that happened in code running
   * after some job's `await` — blame the jobs that were running then.
   */
  onProbeTick(lagMs: number, blockMs: number): void {
    const unexplainedMs = lagMs - this.explainedLagMs;
    this.explainedLagMs = 0;
    if (unexplainedMs <= blockMs) return;
    const suspects = new Set<LocalJob>();
    for (const run of this.activeRuns) {
      suspects.add(run.job);
      if (suspects.size >= MAX_BLAMED_JOBS) break;
    }
    if (suspects.size === 0) {
      this.deps.logger.warn({ lagMs: Math.round(lagMs) }, 'event loop blocked while no local job was running');
      return;
    }
    for (const job of suspects) {
      this.reportMisfit(
        job,
        MisfitReason.BlockedLoop,
        lagMs,
        blockMs,
        `the event loop was blocked for ${Math.round(lagMs)} ms while it was running (after an await); every other job waited`,
      );
    }
  }

  private reportMisfit(job: LocalJob, reason: MisfitReason, durationMs: number, limitMs: number, detail: string): void {
    const suggestedLane = suggestLaneForMisfit();
    const message = `job '${job.name}' does not fit the local lane: ${detail}. Move it to the '${suggestedLane}' lane.`;
    job.misfitReason = `${reason}: ${detail}`;
    const payload = { jobId: job.id, name: job.name, reason, durationMs: Math.round(durationMs), limitMs, suggestedLane, message };
    if (job.warnedMisfits?.includes(reason) !== true) {
      (job.warnedMisfits ??= []).push(reason);
      this.deps.logger.warn(payload, message);
    }
    this.deps.events.emit('job_misfit', payload);
  }
}
