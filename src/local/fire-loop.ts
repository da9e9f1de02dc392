import { performance } from 'node:perf_hooks';
import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import type { TypedEmitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { RunState } from '../core/states.js';
import { applyJitter } from '../core/triggers/index.js';
import { planDueFires, type MissedBatch } from './backlog.js';
import { ExactTimer } from './exact-timer.js';
import { DueHeap } from './heap.js';
import type { LocalJob } from './job.js';
import type { JobRunner } from './runner.js';
import type { LocalSchedulerEvents } from './types.js';

/** setTimeout cannot wait longer than 2^31 − 1 ms; a farther fire re-arms on the way. */
const MAX_TIMER_MS = 2_147_483_647;

export interface FireLoopDeps {
  clock: Clock;
  logger: Logger;
  events: TypedEmitter<LocalSchedulerEvents>;
  runner: JobRunner;
  /** The source of jitter, in [0, 1). */
  random: () => number;
  /** Wake on the exact millisecond (see ExactTimer); only with the system clock. */
  exactTimers: boolean;
  /** Whether fires may run now: the scheduler is running and not paused. */
  firing: () => boolean;
  /**
   * Called after each due job was handled: unregister it when its trigger has no more fires
   * (`job.fireMs === null`), else write it to the store if it is persistent.
   */
  afterDue: (job: LocalJob, nowMs: number) => void;
}

/**
 * The timer loop: when each job fires next, and one timer for the earliest.
 *
 * Jobs wait in a min-heap ordered by their next due time (after jitter). A single timer is armed
 * for the top of the heap; when it fires, every job due by then is taken off the heap in one pass,
 * its next fire is computed from its trigger (never from "now", so intervals stay on their anchor)
 * and put back, and the due fire is run, missed or skipped. The timer is armed again once, after the
 * pass — not per fire.
 *
 * On the system clock the timer is an ExactTimer (a fire starts on its millisecond, at the cost of
 * holding the loop up to 2 ms before it); on an injected clock, the clock's own timers.
 */
export class FireLoop {
  readonly heap = new DueHeap<LocalJob>();
  private timer: TimerHandle | null = null;
  private readonly exactTimer: ExactTimer | null;
  private timerWakeMs = 0;
  private passing = false;
  private readonly onTimerBound = (): void => this.onTimer();

  constructor(private readonly deps: FireLoopDeps) {
    this.exactTimer = deps.exactTimers && deps.clock === systemClock ? new ExactTimer(this.onTimerBound) : null;
  }

  /** Whether a fire pass is under way (the runner accounts the pass's time as explained loop lag). */
  get inPass(): boolean {
    return this.passing;
  }

  /** Sets the job's pending fire (trigger time), applies jitter, and puts it on the heap unless paused. */
  setFire(job: LocalJob, fireMs: number | null): void {
    job.fireMs = fireMs;
    if (fireMs === null) {
      this.heap.remove(job);
      return;
    }
    const jitterMs = job.settings.jitterMs;
    const dueMs = jitterMs > 0 ? applyJitter(fireMs, jitterMs, job.trigger.next(fireMs), this.deps.random) : fireMs;
    if (job.paused) {
      job.dueMs = dueMs;
      this.heap.remove(job);
    } else {
      this.heap.upsert(job, dueMs);
    }
  }

  /** Takes the job off the heap (paused or removed); its pending fire is kept. */
  unschedule(job: LocalJob): void {
    this.heap.remove(job);
  }

  /** Makes sure a timer is armed for the earliest due job (a no-op when one already wakes in time). */
  arm(): void {
    if (this.passing || !this.deps.firing()) return;
    const top = this.heap.peek();
    if (top === undefined) {
      this.disarm();
      return;
    }
    const armed = this.timer !== null || this.exactTimer?.pending === true;
    if (armed && this.timerWakeMs <= top.dueMs) return;
    this.disarm();
    if (this.exactTimer !== null) {
      this.timerWakeMs = top.dueMs;
      this.exactTimer.set(top.dueMs);
      return;
    }
    const clock = this.deps.clock;
    const nowMs = clock.now();
    const delayMs = Math.min(Math.max(top.dueMs - nowMs, 0), MAX_TIMER_MS);
    this.timerWakeMs = nowMs + delayMs;
    this.timer = clock.setTimer(this.onTimerBound, delayMs);
  }

  disarm(): void {
    if (this.timer !== null) this.deps.clock.clearTimer(this.timer);
    this.timer = null;
    this.exactTimer?.clear();
  }

  /** One pass: every job due by now, in due order; then one timer for the next. */
  private onTimer(): void {
    this.timer = null;
    if (!this.deps.firing()) return;
    const passStartMs = performance.now();
    const nowMs = this.deps.clock.now();
    this.passing = true;
    try {
      // A job may pause or stop the scheduler from inside the pass; the rest of the pass then waits too.
      for (let top = this.heap.peek(); top !== undefined && top.dueMs <= nowMs && this.deps.firing(); top = this.heap.peek()) {
        this.heap.pop();
        this.processDue(top, nowMs);
      }
    } finally {
      this.passing = false;
      this.deps.runner.explainedLagMs += performance.now() - passStartMs;
    }
    this.arm();
  }

  private processDue(job: LocalJob, nowMs: number): void {
    const fireMs = job.fireMs as number;
    const dueMs = job.dueMs;
    const followingMs = job.trigger.next(fireMs);
    if (followingMs === null || followingMs > nowMs) {
      // The common case: one fire, on time or nearly. The next fire is scheduled before the run starts,
      // so the job's own code may pause, modify or remove it.
      this.setFire(job, followingMs);
      const graceMs = job.settings.misfireGraceTimeMs;
      const lateMs = nowMs - dueMs;
      if (graceMs !== null && lateMs > graceMs) this.reportMissed(job, { count: 1, firstMs: fireMs, firstLateMs: lateMs, coalesced: false });
      else this.deps.runner.submit(job, fireMs, dueMs, null);
    } else {
      const plan = planDueFires(job.trigger, fireMs, dueMs, nowMs, job.settings.misfireGraceTimeMs, job.settings.coalesce);
      this.setFire(job, plan.nextFireMs);
      for (const batch of plan.missed) this.reportMissed(job, batch);
      for (const runMs of plan.runs) this.deps.runner.submit(job, runMs, runMs === fireMs ? dueMs : runMs, null);
    }
    this.deps.afterDue(job, nowMs);
  }

  private reportMissed(job: LocalJob, batch: MissedBatch): void {
    job.missedCount += batch.count;
    job.state = RunState.Missed;
    const payload = {
      jobId: job.id,
      name: job.name,
      scheduledMs: batch.firstMs,
      lateMs: batch.firstLateMs,
      count: batch.count,
      coalesced: batch.coalesced,
    };
    if (!batch.coalesced) this.deps.logger.warn(payload, `run of job '${job.name}' missed by ${batch.firstLateMs} ms`);
    this.deps.events.emit('job_missed', payload);
  }
}
