/**
 * The queue provider contract, written in queue terms — not in the shape of any one backend.
 *
 * A provider is transport plus (where the backend is a database) job state. It knows nothing about
 * handlers, retries policy, timeouts or backoff: the worker runtime (`worker.ts`) decides those and
 * calls the provider's primitive operations. Every provider runs the same contract suite in
 * `test/contract/queue-provider.ts` against its real server.
 *
 * Life of a job:
 *
 *   enqueue ─► waiting ──fetch──► active (leased until leaseUntilMs) ──ack──► gone (completed)
 *      │          ▲                   │  ╲
 *      │          │                   │   ╲─ lease expires (worker died) ─► waiting again (reclaimed)
 *      ▼          │ due               │
 *   delayed ──────┘                   ├──retry(runAtMs)──► delayed / waiting, attempt + 1
 *                                     └──deadLetter──► dead ──replay──► waiting (attempt reset)
 *
 * Delivery is at-least-once: a job whose worker dies is delivered again after its lease expires, so
 * handlers must be safe to run twice for one job id.
 *
 * Delays: a provider whose backend cannot delay a message (`capabilities.nativeDelay === false`) is
 * only ever handed jobs that are due; the runtime holds future jobs in the Kairos store
 * (`HeldJobStore`) and hands them over when due, which survives a restart of Kairos.
 */

export const PROVIDER_NAMES = ['sqlite', 'postgres', 'redis', 'nats', 'rabbitmq', 'kafka', 'cloudtasks'] as const;
export type ProviderName = (typeof PROVIDER_NAMES)[number];

export type JobState = 'waiting' | 'delayed' | 'active' | 'dead';

/** How a retried job waits: `fixed` waits `delayMs` each time, `exponential` doubles from `delayMs`. */
export interface BackoffPolicy {
  type: 'fixed' | 'exponential';
  delayMs: number;
  /** Upper bound for exponential backoff. Default: 1 hour. */
  maxDelayMs?: number;
  /** 0..1: a random fraction of the delay added on top ("full jitter" above the base). Default 0. */
  jitter?: number;
}

/** What a caller hands to `enqueue`. Everything but `queue`, `name` and `payload` is optional. */
export interface NewJob {
  /** The queue (topic, stream, subject…) the job goes to. */
  queue: string;
  /** The handler key: workers look the handler up by this name. */
  name: string;
  /** JSON-serialisable input of the handler. */
  payload: unknown;
  /** A caller-chosen id; enqueueing the same id twice makes one job. Default: a random UUID. */
  id?: string;
  /** Enqueueing a second job with a live (not yet completed) job of the same dedup key returns the first. */
  dedupKey?: string;
  /** Higher runs first where the provider supports priority. Default 0. Range -100..100. */
  priority?: number;
  /** When the job becomes due, epoch ms. Default: now. */
  runAtMs?: number;
  /** Attempts before the job is dead-lettered. Default 3. */
  maxAttempts?: number;
  backoff?: BackoffPolicy;
  /** The handler is aborted after this long. Default: none. */
  timeoutMs?: number;
  /** Free-form metadata carried with the job (the seed's `metadata`). */
  metadata?: Record<string, unknown>;
  /**
   * Attempts already made. Default 0. Set only when Kairos hands a job back to a provider after holding
   * it (a delayed retry on a broker without native delay), so the attempt count survives the hand-over;
   * providers store it as the job's `attempt` (and deliver it + 1).
   */
  attempt?: number;
  /** The last error of a job handed back for another attempt. Default null. */
  lastError?: string;
}

/** A job as stored and delivered. */
export interface Job {
  id: string;
  queue: string;
  name: string;
  payload: unknown;
  dedupKey: string | null;
  priority: number;
  runAtMs: number;
  /** Attempts started so far, including the current one when delivered. */
  attempt: number;
  maxAttempts: number;
  backoff: BackoffPolicy | null;
  timeoutMs: number | null;
  metadata: Record<string, unknown>;
  createdAtMs: number;
  lastError: string | null;
}

export interface EnqueueResult {
  id: string;
  /** True when an existing job with the same id or dedup key was returned instead of a new one. */
  deduplicated: boolean;
}

/** A delivered job plus the provider's private handle for ack / retry / dead-letter / extend. */
export interface Lease {
  job: Job;
  /** Provider-specific receipt (stream entry id, delivery tag, lease token…). Opaque to callers. */
  token: string;
  leaseUntilMs: number;
}

export interface FetchOptions {
  /** At most this many jobs. */
  max: number;
  /** How long the worker holds each job before it is redelivered elsewhere. */
  leaseMs: number;
  /** Long-poll: wait up to this long for a job when none is ready. 0 returns at once. */
  waitMs: number;
  /** Aborts a long-poll (shutdown). */
  signal?: AbortSignal;
}

export interface DeadLetter {
  job: Job;
  error: string;
  deadAtMs: number;
}

export interface QueueStats {
  queue: string;
  waiting: number;
  active: number;
  delayed: number;
  dead: number;
  /** Age of the oldest waiting job in ms, or null when none is waiting (or the broker cannot say). */
  oldestWaitingAgeMs: number | null;
}

export interface HealthReport {
  ok: boolean;
  latencyMs: number;
  error?: string;
}

export interface ProviderCapabilities {
  /** The backend itself can hold a job until its run time. */
  nativeDelay: boolean;
  /** Higher-priority jobs are delivered first. */
  priority: boolean;
  /** Dedup keys are enforced by the backend (otherwise by Kairos's store). */
  nativeDedup: boolean;
  /** Jobs can be listed by state and fetched by id (database providers). */
  inspect: boolean;
  /** Delivery order: `fifo` within a priority, or `none`. */
  ordering: 'fifo' | 'none';
}

export interface QueueProvider {
  readonly name: ProviderName;
  readonly capabilities: ProviderCapabilities;

  /** Connects with bounded retries; throws ProviderUnavailableError naming the address when it cannot. */
  connect(): Promise<void>;
  /** Stops fetching, releases connections. Jobs leased and not acked are redelivered after their lease. */
  close(): Promise<void>;

  /** Creates what a queue needs (stream, consumer group, durable consumer, queue + DLX). Idempotent. */
  ensureQueue(queue: string): Promise<void>;

  /** Enqueues one or more jobs (all on one queue or many). Jobs with `runAtMs` in the future need `nativeDelay`. */
  enqueue(jobs: readonly NewJob[]): Promise<EnqueueResult[]>;

  /** Leases up to `max` due jobs of `queue`, reclaiming jobs whose lease expired. */
  fetch(queue: string, options: FetchOptions): Promise<Lease[]>;

  /** The job completed: remove it. */
  ack(lease: Lease): Promise<void>;
  /** Hand the job back for another attempt at `runAtMs` (now or later; later needs `nativeDelay`). */
  retry(lease: Lease, options: { runAtMs: number; error: string }): Promise<void>;
  /** Move the job to the dead letters. */
  deadLetter(lease: Lease, error: string): Promise<void>;
  /** Heartbeat: keep the lease for `leaseMs` more. Returns false when the lease was already lost. */
  extendLease(lease: Lease, leaseMs: number): Promise<boolean>;

  listDeadLetters(queue: string, options?: { limit?: number; offset?: number }): Promise<DeadLetter[]>;
  getDeadLetter(queue: string, jobId: string): Promise<DeadLetter | null>;
  /** Re-enqueue dead jobs with their attempts reset; `ids` omitted replays all. Returns the count. */
  replayDeadLetters(queue: string, ids?: readonly string[]): Promise<number>;
  /** Delete dead jobs; `ids` omitted purges all. Returns the count. */
  purgeDeadLetters(queue: string, ids?: readonly string[]): Promise<number>;

  stats(queue: string): Promise<QueueStats>;
  health(): Promise<HealthReport>;

  /** Database providers only (`capabilities.inspect`). */
  getJob?(queue: string, jobId: string): Promise<(Job & { state: JobState }) | null>;
  listJobs?(queue: string, state: JobState, options?: { limit?: number; offset?: number }): Promise<Job[]>;
}

/**
 * A held job's row as one party saw it: `generation` is bumped by every change to the row (a new hold
 * of the same id, a take, a release), so a confirm or release for an older generation does nothing.
 */
export interface HeldJob {
  job: Job;
  generation: number;
}

/**
 * Where Kairos holds jobs a broker cannot delay, and records dead letters and dedup keys for pure
 * brokers. Implemented on the Kairos store (SQLite or PostgreSQL).
 *
 * Life of a held row: held ─► (due) taken by a dispatcher ─► handed to the broker ─► confirmed (deleted).
 * A handed-over job can be delivered, fail and be held again before the dispatcher confirms; that new
 * hold replaces the taken row with a new generation, and the late confirm (for the old generation)
 * leaves it alone. A worker holding a retry `pinned` keeps it from every dispatcher until it has acked
 * the delivery and calls `release` — a broker that deduplicates by job id would otherwise drop the
 * hand-over as a duplicate of the delivery still being acked.
 */
export interface HeldJobStore {
  /**
   * Holds a job until `job.runAtMs`. A job id already held and never taken is kept as it is (enqueueing
   * one id twice makes one job) and `null` is returned; a row that was taken or pinned — the same job,
   * handed over and back again — is replaced. `pinned`: no dispatcher takes the row until `release`, or
   * until the claim time (`claimMs`) passes if the holder died.
   */
  hold(job: Job, options?: { pinned?: boolean }): Promise<HeldJob | null>;
  /** Unpins a row held `pinned`, if it is still the generation `hold` returned. */
  release(held: HeldJob): Promise<void>;
  /** Atomically takes up to `max` held jobs due at `nowMs` — claimed so that two dispatchers never both hand one over. */
  takeDue(nowMs: number, max: number): Promise<HeldJob[]>;
  /**
   * Confirms the jobs returned by `takeDue` were handed to the broker: deletes each row still at the
   * generation it was taken at. Until then they are retaken after a timeout.
   */
  confirmHandedOver(taken: readonly HeldJob[]): Promise<void>;
  /** The earliest run time of any held job, for the dispatcher's timer. */
  nextDueMs(): Promise<number | null>;
  countHeld(queue: string): Promise<number>;
}

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_LEASE_MS = 30_000;
/** Serialised payload limit; larger payloads belong in object storage, with a reference in the job. */
export const DEFAULT_MAX_PAYLOAD_BYTES = 1_048_576;
