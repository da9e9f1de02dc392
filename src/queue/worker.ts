/**
 * The queue worker runtime: pulls jobs from one provider, runs their handlers, and settles each job
 * (ack / retry / dead-letter). There is no SQL or broker code here — only the provider contract.
 *
 * Each queue the worker serves has its own pull loop and its own concurrency limit. A loop asks the
 * provider for at most as many jobs as it has free slots (long-polling up to `pollWaitMs`), and
 * starts a handler for each. While a handler runs, a heartbeat extends its lease every `leaseMs / 3`
 * (BullMQ's lock renewal, graphile-worker's locked_at): a long job keeps its lease, a dead worker's
 * jobs come back to the queue when their leases expire. A handler's AbortSignal fires on its timeout
 * (TimeoutError), on worker shutdown (AbortedError) and when its lease was lost.
 *
 * Settling a failure: attempts left → retry after the backoff (held in the Kairos store when the
 * broker cannot delay); none left → dead letter. A job whose handler key is unknown on this worker is
 * dead-lettered at once with UnknownHandlerError — retrying cannot make the key appear.
 *
 * Shutdown (`stop`): stop fetching, let in-flight jobs finish until the deadline, then abort them and
 * hand them back to the queue for another worker. If the broker goes away, fetch errors are reported
 * as `worker_error` and the loop backs off and tries again; the provider reconnects, and unacked jobs
 * are redelivered after their leases — nothing is lost.
 */
import type { Clock, TimerHandle } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import { TypedEmitter } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { AbortedError, ConfigError, TimeoutError, UnknownHandlerError, toError } from '../errors.js';
import { DEFAULT_BACKOFF, backoffDelayMs, checkBackoff } from './backoff.js';
import { DEFAULT_LEASE_MS, type BackoffPolicy, type HeldJobStore, type Job, type Lease, type QueueProvider } from './contract.js';
import { DelayDispatcher } from './delay-dispatcher.js';
import { createHandlerRegistry, type HandlerRegistry, type JobContext, type JobHandler } from './handlers.js';

export interface QueueWorkerEvents extends Record<string, unknown> {
  job_started: { queue: string; job: Job };
  job_completed: { queue: string; job: Job; durationMs: number; result: unknown };
  /** Every failed attempt, before it is retried or dead-lettered. */
  job_failed: { queue: string; job: Job; error: Error; durationMs: number; willRetry: boolean };
  job_retried: { queue: string; job: Job; error: Error; delayMs: number; runAtMs: number };
  job_dead: { queue: string; job: Job; error: Error };
  /** Something went wrong around the jobs (fetch, ack, heartbeat): the worker carries on. */
  worker_error: { queue: string | null; operation: string; error: Error };
}

export interface QueueWorkerOptions {
  provider: QueueProvider;
  /** The queue(s) to serve. */
  queue: string | readonly string[];
  /** Handlers by job key. */
  handlers: HandlerRegistry | Record<string, JobHandler>;
  /** Most handlers running at once, per queue (a number for all, or by queue name). Default 1. */
  concurrency?: number | Readonly<Record<string, number>>;
  /** How long a fetched job is ours before it is redelivered elsewhere. Default 30000 (DEFAULT_LEASE_MS). */
  leaseMs?: number;
  /** How long one fetch long-polls for work. Default 5000. */
  pollWaitMs?: number;
  /** Backoff for jobs that carry none. Default DEFAULT_BACKOFF (exponential from 1 s, ×2, ≤ 1 h, +0–20 %). */
  defaultBackoff?: BackoffPolicy;
  /** Where to hold delayed retries when the provider cannot delay (`capabilities.nativeDelay` false). */
  heldJobs?: HeldJobStore;
  /** Run a DelayDispatcher for `heldJobs` inside this worker. Default true when `heldJobs` is given. */
  dispatchHeldJobs?: boolean;
  /**
   * Fetch the next batch while the current one runs. `'auto'` (default): only while the queue's
   * handlers take under 10 ms on average — short jobs, where the round trip per batch would
   * otherwise halve throughput; longer jobs are left in the queue for idle workers. Jobs fetched
   * ahead wait with their leases kept alive — about 50 ms of work, at least `concurrency` and at
   * most 64 jobs (`true` with slow handlers: `concurrency`); on shutdown they go back.
   */
  prefetch?: boolean | 'auto';
  /** Default time `stop()` lets in-flight jobs finish before aborting them. Default 30000. */
  shutdownTimeoutMs?: number;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: silent. */
  logger?: Logger;
  /** Jitter source for backoff (tests pin it). Default Math.random. */
  random?: () => number;
}

/** Handlers faster than this on average (ms) make `prefetch: 'auto'` fetch ahead. */
const PREFETCH_BELOW_MS = 10;
/** Fetching ahead holds about this much work (ms) waiting for slots, and never more jobs than AHEAD_MAX_JOBS. */
const AHEAD_WORK_MS = 50;
const AHEAD_MAX_JOBS = 64;

/** A job fetched ahead of a free slot. */
interface AheadLease {
  lease: Lease;
  stopHeartbeat: () => void;
}

/**
 * One job in flight. The AbortController behind the handler's `signal` is made only when the handler
 * reads `signal` (most never do, and an EventTarget per job is a measurable share of a no-op job);
 * `abort` settles the job's race either way.
 */
class Running {
  done: Promise<void> = Promise.resolve();
  /** The handler has returned; the ack, retry or dead letter is in flight. */
  settling = false;
  reason: unknown = undefined;
  private controller: AbortController | null = null;
  private rejectRace: ((reason: unknown) => void) | null = null;

  constructor(readonly lease: Lease) {}

  get aborted(): boolean {
    return this.reason !== undefined;
  }

  get signal(): AbortSignal {
    this.controller ??= new AbortController();
    if (this.aborted && !this.controller.signal.aborted) this.controller.abort(this.reason);
    return this.controller.signal;
  }

  abort(reason: Error): void {
    if (this.aborted) return;
    this.reason = reason;
    // The race first: a handler that settles in its abort listener must still lose to the abort.
    this.rejectRace?.(reason);
    this.controller?.abort(reason);
  }

  /** A promise that rejects when the job is aborted (the handler's result races it). */
  abortion(): Promise<never> {
    return new Promise<never>((_, reject) => {
      if (this.aborted) reject(toError(this.reason));
      else this.rejectRace = (reason) => reject(toError(reason));
    });
  }
}

/** A stateful runtime object: create with `createQueueWorker`, then `start()` and later `stop()`. */
export class QueueWorker {
  readonly events: TypedEmitter<QueueWorkerEvents>;
  private readonly provider: QueueProvider;
  private readonly queues: readonly string[];
  private readonly handlers: HandlerRegistry;
  private readonly concurrencyByQueue: ReadonlyMap<string, number>;
  private readonly leaseMs: number;
  private readonly pollWaitMs: number;
  private readonly defaultBackoff: BackoffPolicy;
  private readonly heldJobs: HeldJobStore | undefined;
  private readonly dispatcher: DelayDispatcher | null;
  private readonly shutdownTimeoutMs: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly random: () => number;
  private readonly running = new Map<string, Set<Running>>();
  private readonly slotWaiters = new Map<string, () => void>();
  /** Jobs fetched ahead, waiting for a slot (see `fetchesAhead`), per queue. */
  private readonly ahead = new Map<string, AheadLease[]>();
  /** Moving mean of handler durations, per queue: fetching ahead is for short jobs only. */
  private readonly meanHandlerMs = new Map<string, number>();
  private readonly prefetch: boolean | 'auto';
  /** Jobs whose handler has returned but whose ack (retry, dead letter) is still in flight, per queue. */
  private readonly settling = new Map<string, number>();
  private fetchController = new AbortController();
  private loops: Promise<void>[] = [];
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';

  constructor(options: QueueWorkerOptions) {
    this.provider = options.provider;
    this.queues = typeof options.queue === 'string' ? [options.queue] : [...options.queue];
    if (this.queues.length === 0) throw new ConfigError('A worker needs at least one queue.', { details: { field: 'queue' } });
    this.handlers = isRegistry(options.handlers) ? options.handlers : createHandlerRegistry(options.handlers);
    const concurrency = options.concurrency ?? 1;
    this.concurrencyByQueue = new Map(
      this.queues.map((queue) => {
        const n = typeof concurrency === 'number' ? concurrency : (concurrency[queue] ?? 1);
        if (!Number.isInteger(n) || n < 1) {
          throw new ConfigError(`concurrency for queue '${queue}' must be a whole number ≥ 1.`, { details: { field: 'concurrency', value: n } });
        }
        return [queue, n];
      }),
    );
    this.leaseMs = positive(options.leaseMs ?? DEFAULT_LEASE_MS, 'leaseMs');
    this.pollWaitMs = nonNegative(options.pollWaitMs ?? 5_000, 'pollWaitMs');
    this.defaultBackoff = checkBackoff(options.defaultBackoff ?? DEFAULT_BACKOFF, 'defaultBackoff');
    this.shutdownTimeoutMs = nonNegative(options.shutdownTimeoutMs ?? 30_000, 'shutdownTimeoutMs');
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    this.heldJobs = options.heldJobs;
    if (!this.provider.capabilities.nativeDelay && this.heldJobs === undefined) {
      throw new ConfigError(
        `The ${this.provider.name} provider cannot delay jobs, so the worker needs heldJobs (a HeldJobStore on the Kairos store) to hold retries.`,
        { details: { field: 'heldJobs', provider: this.provider.name } },
      );
    }
    this.dispatcher =
      this.heldJobs !== undefined && (options.dispatchHeldJobs ?? true)
        ? new DelayDispatcher({ heldJobs: this.heldJobs, provider: this.provider, clock: this.clock, logger: this.logger })
        : null;
    this.events = new TypedEmitter<QueueWorkerEvents>((error, event) =>
      this.logger.warn({ err: error, event }, 'a queue worker event listener threw'),
    );
    this.prefetch = options.prefetch ?? 'auto';
    for (const queue of this.queues) {
      this.running.set(queue, new Set());
      this.ahead.set(queue, []);
    }
  }

  /** How many handlers are running now, per queue. */
  inFlight(queue?: string): number {
    if (queue !== undefined) return (this.running.get(queue)?.size ?? 0) - (this.settling.get(queue) ?? 0);
    let n = 0;
    for (const [queue, set] of this.running) n += set.size - (this.settling.get(queue) ?? 0);
    return n;
  }

  get isRunning(): boolean {
    return this.state === 'running';
  }

  /** Ensures the queues exist and starts one pull loop per queue. */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new ConfigError(`This worker is ${this.state}; create a new one to start again.`);
    this.state = 'running';
    await this.provider.connect();
    for (const queue of this.queues) await this.provider.ensureQueue(queue);
    this.dispatcher?.start();
    this.loops = this.queues.map((queue) => this.pullLoop(queue));
  }

  /**
   * Stops fetching, waits up to `timeoutMs` for in-flight jobs, then aborts the rest and hands them
   * back to the queue. Resolves when every job is settled. Does not close the provider.
   */
  async stop(options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.state === 'idle') {
      this.state = 'stopped';
      return;
    }
    if (this.state !== 'running') return;
    this.state = 'stopping';
    this.fetchController.abort();
    for (const wake of this.slotWaiters.values()) wake();
    await Promise.all(this.loops);
    const all = () => [...this.running.values()].flatMap((set) => [...set]);
    const timeoutMs = options.timeoutMs ?? this.shutdownTimeoutMs;
    let timer: TimerHandle | undefined;
    const deadline = new Promise<'deadline'>((resolve) => {
      timer = this.clock.setTimer(() => resolve('deadline'), timeoutMs);
    });
    const outcome = await Promise.race([Promise.all(all().map((r) => r.done)).then(() => 'done' as const), deadline]);
    if (timer !== undefined) this.clock.clearTimer(timer);
    if (outcome === 'deadline') {
      for (const job of all()) job.abort(new AbortedError('The worker is shutting down: the job goes back to the queue.'));
      await Promise.all(all().map((r) => r.done));
    }
    await this.dispatcher?.stop();
    this.state = 'stopped';
  }

  /** Slots a new job may take now: handlers running, plus settling jobs beyond `limit`. */
  private freeSlots(queue: string): number {
    const limit = this.concurrencyByQueue.get(queue) ?? 1;
    const running = this.running.get(queue)?.size ?? 0;
    // A slot frees when its handler returns, not when the ack is through: the next fetch then goes
    // out beside the ack instead of a round trip after it (at-least-once is untouched: the job is
    // deleted only by its ack). Settling jobs are capped — at `limit`, or at the fetch-ahead target
    // for short jobs, whose acks go out in batches that size — so a slow ack still throttles.
    const settling = this.settling.get(queue) ?? 0;
    return Math.min(limit - (running - settling), limit + Math.max(limit, this.aheadTarget(queue)) - running);
  }

  /**
   * Fetch ahead: while a queue's jobs are short, the next fetch goes out as soon as a full batch
   * arrives, before its handlers run, so the broker prepares batch n + 1 while this process runs
   * batch n — without it each side waits for the other, one round trip per batch, both half idle.
   */
  private fetchesAhead(queue: string): boolean {
    if (this.prefetch === false) return false;
    if (this.prefetch === true) return true;
    const mean = this.meanHandlerMs.get(queue);
    return mean !== undefined && mean < PREFETCH_BELOW_MS;
  }

  private observeHandlerMs(queue: string, ms: number): void {
    const mean = this.meanHandlerMs.get(queue);
    this.meanHandlerMs.set(queue, mean === undefined ? ms : mean + (ms - mean) / 16);
  }

  /** Starts jobs fetched ahead while slots are free. */
  private startAhead(queue: string): void {
    const ahead = this.ahead.get(queue);
    if (ahead === undefined) return;
    while (ahead.length > 0 && this.state === 'running' && this.freeSlots(queue) > 0) {
      const next = ahead.shift();
      if (next === undefined) break;
      next.stopHeartbeat();
      this.startJob(queue, next.lease);
    }
  }

  private startJob(queue: string, lease: Lease): void {
    const running = this.running.get(queue);
    if (running === undefined) return;
    const entry = new Running(lease);
    running.add(entry);
    entry.done = this.runJob(queue, entry).finally(() => {
      if (entry.settling) this.settling.set(queue, (this.settling.get(queue) ?? 1) - 1);
      running.delete(entry);
      this.slotFreed(queue);
    });
  }

  private slotFreed(queue: string): void {
    this.startAhead(queue);
    this.slotWaiters.get(queue)?.();
  }

  /**
   * Holds a job fetched ahead until a slot frees, keeping its lease alive as a running job's is. If
   * the lease is lost meanwhile, the job is dropped here: it was reclaimed and runs elsewhere.
   */
  private holdAhead(queue: string, lease: Lease): void {
    const ahead = this.ahead.get(queue);
    if (ahead === undefined) return;
    const held: AheadLease = {
      lease,
      stopHeartbeat: this.keepLeaseAlive(queue, lease, () => {
        const at = ahead.indexOf(held);
        if (at >= 0) ahead.splice(at, 1);
      }),
    };
    ahead.push(held);
  }

  private async giveBack(queue: string, lease: Lease): Promise<void> {
    await this.provider
      .retry(lease, { runAtMs: this.clock.now(), error: 'worker shut down before starting the job' })
      .catch((e: unknown) => this.reportError(queue, 'retry', e));
  }

  /**
   * How many jobs may wait fetched ahead of a free slot: none unless fetching ahead; otherwise about
   * AHEAD_WORK_MS of work at this concurrency, at least `concurrency` and at most AHEAD_MAX_JOBS.
   * No-op jobs get the full 64, so a fetch's round trip and fixed broker cost are spread over many
   * jobs instead of 8; slower jobs get fewer, so a worker never sits on more than a moment's work
   * that an idle worker could have taken.
   */
  private aheadTarget(queue: string): number {
    if (!this.fetchesAhead(queue)) return 0;
    const limit = this.concurrencyByQueue.get(queue) ?? 1;
    const mean = this.meanHandlerMs.get(queue);
    // Until a handler has been timed (`prefetch: true`), assume jobs are slow.
    if (mean === undefined) return limit;
    const byWork = mean <= 0 ? AHEAD_MAX_JOBS : Math.floor((limit * AHEAD_WORK_MS) / mean);
    return Math.max(limit, Math.min(AHEAD_MAX_JOBS, byWork));
  }

  /**
   * How many jobs to ask for now, or 0 to wait: the free slots, plus — when fetching ahead — what
   * tops the ahead buffer up, but only once it has drained to half, so fetches stay large.
   */
  private wanted(queue: string, freeSlots: number, waiting: number): number {
    const target = this.aheadTarget(queue);
    const want = freeSlots + target - waiting;
    if (target === 0) return Math.max(0, want);
    return want >= Math.max(1, target / 2) ? want : 0;
  }

  private async pullLoop(queue: string): Promise<void> {
    const ahead = this.ahead.get(queue) ?? [];
    let failures = 0;
    /** A fetch sent ahead, and how many jobs it asked for. */
    let inFlight: { leases: Promise<Lease[]>; max: number } | null = null;
    const fetch = (max: number) => ({
      max,
      leases: this.provider.fetch(queue, { max, leaseMs: this.leaseMs, waitMs: this.pollWaitMs, signal: this.fetchController.signal }),
    });
    while (this.state === 'running') {
      if (inFlight === null) {
        const want = this.wanted(queue, this.freeSlots(queue), ahead.length);
        if (want <= 0) {
          await new Promise<void>((resolve) => this.slotWaiters.set(queue, resolve));
          this.slotWaiters.delete(queue);
          continue;
        }
        inFlight = fetch(want);
      }
      const requested = inFlight.max;
      let leases: Lease[];
      try {
        leases = await inFlight.leases;
        failures = 0;
      } catch (error) {
        if (this.state !== 'running') break;
        failures += 1;
        this.reportError(queue, 'fetch', error);
        // The broker or database is away: back off (≤ 5 s) and try again; the provider reconnects.
        await this.sleep(Math.min(100 * 2 ** Math.min(failures, 10), 5_000));
        continue;
      } finally {
        inFlight = null;
      }
      if (this.state !== 'running') {
        // Fetched as shutdown began: give it straight back.
        for (const lease of leases) await this.giveBack(queue, lease);
        break;
      }
      // A full batch: there is probably more, so the next fetch goes out now, before this batch
      // runs, sized by what the batch leaves free and waiting.
      if (leases.length > 0 && leases.length >= requested && this.fetchesAhead(queue)) {
        const free = this.freeSlots(queue);
        const starting = ahead.length === 0 ? Math.min(Math.max(0, free), leases.length) : 0;
        const next = this.wanted(queue, free - starting, ahead.length + leases.length - starting);
        if (next > 0) {
          inFlight = fetch(next);
          // Rejections are handled where it is awaited; this only keeps it from counting as unhandled meanwhile.
          inFlight.leases.catch(() => undefined);
          // Let the request leave before the batch runs: otherwise it is written after the handlers
          // of this batch, and the broker idles while they run, the very wait fetching ahead removes.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      }
      for (const lease of leases) {
        if (ahead.length === 0 && this.freeSlots(queue) > 0) this.startJob(queue, lease);
        else this.holdAhead(queue, lease);
      }
    }
    if (inFlight !== null) {
      const late = await inFlight.leases.catch(() => [] as Lease[]);
      for (const lease of late) await this.giveBack(queue, lease);
    }
    for (const held of ahead.splice(0)) {
      held.stopHeartbeat();
      await this.giveBack(queue, held.lease);
    }
  }

  private async runJob(queue: string, entry: Running): Promise<void> {
    const { lease } = entry;
    const { job } = lease;
    const startedAt = performance.now();
    // Payloads are built only when someone listens: this is the per-job hot path.
    if (this.events.hasListeners('job_started')) this.events.emit('job_started', { queue, job });
    const handler = this.handlers.get(job.name);
    if (handler === undefined) {
      const error = new UnknownHandlerError(
        `No handler is registered for '${job.name}' on this worker (known: ${this.handlers.keys().join(', ') || 'none'}). Register it, then replay the dead letter.`,
        { details: { key: job.name, jobId: job.id } },
      );
      await this.settle(queue, lease, () => this.provider.deadLetter(lease, error.message), 'deadLetter');
      this.events.emit('job_failed', { queue, job, error, durationMs: performance.now() - startedAt, willRetry: false });
      this.events.emit('job_dead', { queue, job, error });
      return;
    }

    const stopTimers = this.armJobTimers(queue, entry);
    const extendLease = (leaseMs = this.leaseMs) => this.provider.extendLease(lease, leaseMs);
    const logger = this.logger;
    const context: JobContext = {
      job,
      attempt: job.attempt,
      get signal() {
        return entry.signal;
      },
      logger,
      extendLease,
    };
    let outcome: { ok: true; result: unknown } | { ok: false; error: Error };
    try {
      const returned = handler(job.payload, context);
      // A handler that ignores its signal still loses the race: the job is settled on time.
      const result = isThenable(returned) || entry.aborted ? await Promise.race([returned, entry.abortion()]) : returned;
      outcome = { ok: true, result };
    } catch (error) {
      outcome = { ok: false, error: toError(error) };
    } finally {
      stopTimers();
    }
    const durationMs = performance.now() - startedAt;
    entry.settling = true;
    this.settling.set(queue, (this.settling.get(queue) ?? 0) + 1);
    this.observeHandlerMs(queue, durationMs);
    this.slotFreed(queue);

    if (outcome.ok) {
      await this.settle(queue, lease, () => this.provider.ack(lease), 'ack');
      if (this.events.hasListeners('job_completed')) this.events.emit('job_completed', { queue, job, durationMs, result: outcome.result });
      return;
    }
    const { error } = outcome;
    if (error instanceof AbortedError && this.state !== 'running') {
      // Shutdown, not the job's fault: straight back to the queue for another worker.
      await this.settle(queue, lease, () => this.provider.retry(lease, { runAtMs: this.clock.now(), error: error.message }), 'retry');
      this.events.emit('job_failed', { queue, job, error, durationMs, willRetry: true });
      return;
    }
    const willRetry = job.attempt < job.maxAttempts;
    this.events.emit('job_failed', { queue, job, error, durationMs, willRetry });
    if (!willRetry) {
      await this.settle(queue, lease, () => this.provider.deadLetter(lease, describeError(error)), 'deadLetter');
      this.events.emit('job_dead', { queue, job, error });
      return;
    }
    const delayMs = backoffDelayMs(job.backoff ?? this.defaultBackoff, job.attempt, this.random);
    const runAtMs = this.clock.now() + delayMs;
    await this.settle(queue, lease, () => this.retryLater(lease, runAtMs, describeError(error)), 'retry');
    this.events.emit('job_retried', { queue, job, error, delayMs, runAtMs });
  }

  private async retryLater(lease: Lease, runAtMs: number, error: string): Promise<void> {
    if (this.provider.capabilities.nativeDelay || runAtMs <= this.clock.now() || this.heldJobs === undefined) {
      await this.provider.retry(lease, { runAtMs: this.provider.capabilities.nativeDelay ? runAtMs : this.clock.now(), error });
      return;
    }
    // Hold first, then ack: if we die in between, the job runs once more (at-least-once), never zero
    // times. The hold is pinned until the ack is through: a hand-over while this delivery is still
    // live would be taken by the broker (or its dedup ledger) for a duplicate of it, and dropped.
    // If we die before the release, the pin expires after the held store's claim time.
    const held = await this.heldJobs.hold({ ...lease.job, runAtMs, lastError: error }, { pinned: true });
    try {
      await this.provider.ack(lease);
    } finally {
      if (held !== null) {
        await this.heldJobs.release(held);
        this.dispatcher?.notifyHeld(runAtMs);
      }
    }
  }

  /** Extends `lease` every leaseMs / 3 until the returned function is called; `onLost` if it was lost. */
  private keepLeaseAlive(queue: string, lease: Lease, onLost: () => void): () => void {
    let timer: TimerHandle | null = null;
    const beat = () => {
      timer = this.clock.setTimer(() => {
        this.provider.extendLease(lease, this.leaseMs).then(
          (kept) => {
            if (timer === null) return;
            if (kept) beat();
            else onLost();
          },
          (error: unknown) => {
            this.reportError(queue, 'extendLease', error);
            if (timer !== null) beat();
          },
        );
      }, Math.max(1, Math.floor(this.leaseMs / 3)));
    };
    beat();
    return () => {
      if (timer !== null) this.clock.clearTimer(timer);
      timer = null;
    };
  }

  /** Heartbeat (every leaseMs / 3) and the job's own timeout. Returns the function that stops both. */
  private armJobTimers(queue: string, entry: Running): () => void {
    const { lease } = entry;
    const stopHeartbeat = this.keepLeaseAlive(queue, lease, () =>
      entry.abort(new AbortedError(`Lost the lease on job ${lease.job.id}: it was reclaimed and may run elsewhere.`)),
    );
    let timeout: TimerHandle | null = null;
    const timeoutMs = lease.job.timeoutMs;
    if (timeoutMs !== null) {
      timeout = this.clock.setTimer(
        () =>
          entry.abort(
            new TimeoutError(`Job ${lease.job.id} ('${lease.job.name}') ran past its timeout of ${timeoutMs} ms and was aborted.`, {
              details: { jobId: lease.job.id, timeoutMs },
            }),
          ),
        timeoutMs,
      );
    }
    return () => {
      stopHeartbeat();
      if (timeout !== null) this.clock.clearTimer(timeout);
    };
  }

  private async settle(queue: string, lease: Lease, operation: () => Promise<void>, name: string): Promise<void> {
    try {
      await operation();
    } catch (error) {
      // The job stays leased and comes back when the lease expires: reported, not lost.
      this.reportError(queue, name, error, lease.job.id);
    }
  }

  private reportError(queue: string | null, operation: string, error: unknown, jobId?: string): void {
    const err = toError(error);
    this.logger.warn({ queue, operation, jobId, err }, `queue worker: ${operation} failed`);
    this.events.emit('worker_error', { queue, operation, error: err });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.fetchController.signal;
      if (signal.aborted) {
        resolve();
        return;
      }
      const timer = this.clock.setTimer(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      const onAbort = () => {
        this.clock.clearTimer(timer);
        resolve();
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

function isRegistry(value: unknown): value is HandlerRegistry {
  return typeof value === 'object' && value !== null && typeof (value as HandlerRegistry).get === 'function' && typeof (value as HandlerRegistry).keys === 'function';
}

function describeError(error: Error): string {
  const code = (error as { code?: unknown }).code;
  return `${error.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${error.message}`;
}

function positive(value: number, field: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new ConfigError(`${field} must be a positive number of milliseconds.`, { details: { field, value } });
  return value;
}

function nonNegative(value: number, field: string): number {
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${field} must be a number of milliseconds ≥ 0.`, { details: { field, value } });
  return value;
}

/** Creates a queue worker (not started). */
export function createQueueWorker(options: QueueWorkerOptions): QueueWorker {
  return new QueueWorker(options);
}
