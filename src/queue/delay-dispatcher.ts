/**
 * Hands held jobs to a broker that cannot delay messages, when they fall due.
 *
 * One timer is armed for the earliest due time in the held store (re-armed at once when an earlier
 * job is held in this process), capped at `recheckIntervalMs` because other processes may hold
 * earlier jobs in the same store. When it fires, the dispatcher takes due jobs (claimed in the store,
 * so two dispatchers never both hand one over), enqueues them on the provider, and only then confirms
 * the hand-over. If it dies in between, the claim times out and another dispatcher hands the jobs over
 * again: at-least-once, like everything else in the queue lane. The confirm deletes only the row
 * generation it took, so a job that came back (delivered, failed, held again) before the confirm
 * stays held.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import type { HeldJobStore, Job, NewJob, QueueProvider } from './contract.js';

export interface DelayDispatcherOptions {
  heldJobs: HeldJobStore;
  provider: QueueProvider;
  /** Most jobs handed over per enqueue call. Default 500. */
  batchSize?: number;
  /** Longest time between two looks at the held store (for jobs held by other processes). Default 5000. */
  recheckIntervalMs?: number;
  /** Wait after a failed hand-over (broker down) before trying again. Default 1000. */
  retryDelayMs?: number;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: silent. */
  logger?: Logger;
}

/** The NewJob that hands a held job over, carrying its attempt count and last error. */
export function heldToNewJob(job: Job): NewJob {
  return {
    queue: job.queue,
    name: job.name,
    payload: job.payload,
    id: job.id,
    ...(job.dedupKey === null ? {} : { dedupKey: job.dedupKey }),
    priority: job.priority,
    maxAttempts: job.maxAttempts,
    ...(job.backoff === null ? {} : { backoff: job.backoff }),
    ...(job.timeoutMs === null ? {} : { timeoutMs: job.timeoutMs }),
    metadata: job.metadata,
    attempt: job.attempt,
    ...(job.lastError === null ? {} : { lastError: job.lastError }),
  };
}

export class DelayDispatcher {
  private readonly heldJobs: HeldJobStore;
  private readonly provider: QueueProvider;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly batchSize: number;
  private readonly recheckIntervalMs: number;
  private readonly retryDelayMs: number;
  private timer: TimerHandle | null = null;
  private armedForMs = Number.POSITIVE_INFINITY;
  private running = false;
  private ticking: Promise<void> | null = null;
  private tickAgain = false;

  constructor(options: DelayDispatcherOptions) {
    this.heldJobs = options.heldJobs;
    this.provider = options.provider;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.batchSize = options.batchSize ?? 500;
    this.recheckIntervalMs = options.recheckIntervalMs ?? 5_000;
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
  }

  get isRunning(): boolean {
    return this.running;
  }

  /** Starts the timer; hands over anything already due. Idempotent. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.arm(this.clock.now());
  }

  /** Stops the timer and waits for a hand-over in progress. Held jobs stay held. */
  async stop(): Promise<void> {
    this.running = false;
    this.disarm();
    await this.ticking;
  }

  /** A job due at `runAtMs` was just held: fire earlier if that is earlier than the armed time. */
  notifyHeld(runAtMs: number): void {
    if (this.running && runAtMs < this.armedForMs) this.arm(runAtMs);
  }

  /** Hands over every job due now; returns how many. Used by the timer, and by tests and the CLI. */
  async dispatchDue(): Promise<number> {
    let handed = 0;
    for (;;) {
      const taken = await this.heldJobs.takeDue(this.clock.now(), this.batchSize);
      if (taken.length === 0) return handed;
      await this.provider.enqueue(taken.map((held) => heldToNewJob(held.job)));
      // By generation: a job delivered, failed and held again meanwhile keeps its new hold.
      await this.heldJobs.confirmHandedOver(taken);
      handed += taken.length;
      if (taken.length < this.batchSize) return handed;
    }
  }

  private arm(atMs: number): void {
    this.disarm();
    const nowMs = this.clock.now();
    const fireAtMs = Math.min(atMs, nowMs + this.recheckIntervalMs);
    this.armedForMs = fireAtMs;
    this.timer = this.clock.setTimer(() => this.onTimer(), Math.max(0, fireAtMs - nowMs));
    this.timer.unref?.();
  }

  private disarm(): void {
    if (this.timer !== null) this.clock.clearTimer(this.timer);
    this.timer = null;
    this.armedForMs = Number.POSITIVE_INFINITY;
  }

  private onTimer(): void {
    this.timer = null;
    this.armedForMs = Number.POSITIVE_INFINITY;
    if (this.ticking !== null) {
      this.tickAgain = true;
      return;
    }
    this.ticking = this.tick().finally(() => {
      this.ticking = null;
      if (this.tickAgain && this.running) {
        this.tickAgain = false;
        this.onTimer();
      }
    });
  }

  private async tick(): Promise<void> {
    let nextMs: number;
    try {
      const handed = await this.dispatchDue();
      if (handed > 0) this.logger.debug({ provider: this.provider.name, handed }, 'held jobs handed over');
      nextMs = (await this.heldJobs.nextDueMs()) ?? Number.POSITIVE_INFINITY;
    } catch (error) {
      this.logger.warn({ provider: this.provider.name, err: error }, 'handing held jobs over failed; retrying');
      nextMs = this.clock.now() + this.retryDelayMs;
    }
    // A floor of a few ms: never spin if another dispatcher holds the claim on what is due.
    if (this.running && this.timer === null) this.arm(Math.max(nextMs, this.clock.now() + 5));
  }
}
