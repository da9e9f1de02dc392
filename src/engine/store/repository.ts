import type { RunState } from '../../core/states.js';
import type { LogLevel, RecordedError, RunEventRecord, RunFilter, RunKind, RunRecord, StepKind, StepRecord } from '../types.js';

/**
 * Every read and write the engine makes to the store, in engine terms. One interface, one
 * implementation per SQL dialect (`sqlite.ts`, `postgres.ts`); the runtime has no SQL in it.
 *
 * Fencing: every write made on behalf of the executor of a run — the run's own transitions
 * (`heartbeat`, `finishRun`, `suspendRun`, `handOffRun`, `releaseRun`) and its journal
 * (`beginStep`, `finishStep`, `recordStep`, `markStep`) — carries the RunLease of the claim it
 * runs under, and applies only while that claim is current (same token, run still Running), in the
 * same statement as the write. A claim made since (after the lease expired, even by the same
 * worker) has a new token, so an executor that stalled cannot overwrite what happened since.
 * Run transitions report a refused write as `false`; journal writes throw LeaseLostError.
 */
export interface EngineRepository {
  readonly dialect: 'sqlite' | 'postgres';

  insertRun(run: NewRun): Promise<{ runId: string; created: boolean }>;
  getRun(runId: string): Promise<RunRecord | undefined>;
  listRuns(filter: RunFilter): Promise<RunRecord[]>;
  /** Ids of non-terminal runs of a deployment, oldest first. */
  activeRunIds(deploymentId: string): Promise<string[]>;
  /**
   * Takes up to `limit` runnable runs (Pending and due; Running with an expired lease; Waiting whose
   * wake time passed) whose name and queue this worker serves, and leases them to `workerId`. The
   * Running transition (preceded by Crashed when a previous holder's lease expired) is appended to
   * each run's timeline in the same transaction.
   */
  claimRuns(request: ClaimRequest): Promise<ClaimedRun[]>;
  /** Extends the lease (and of the run's tag slots); false when the worker no longer holds a Running run (cancelled, reclaimed). */
  heartbeat(lease: RunLease, leaseUntilMs: number, nowMs: number): Promise<boolean>;
  /** Records the terminal state (and its timeline entry, in the same transaction). */
  finishRun(lease: RunLease, outcome: RunOutcome): Promise<boolean>;
  /**
   * Running → Waiting, releasing the lease. If something woke the run after it was claimed
   * (`wakeupsAtClaim` differs), it is made runnable at once instead, so a wake-up is never lost.
   */
  suspendRun(lease: RunLease, wakeMs: number | null, wakeupsAtClaim: number, nowMs: number): Promise<boolean>;
  /** Running → Pending on another worker queue (a flow task that needs e.g. the `gpu` queue). */
  handOffRun(lease: RunLease, queue: string, nowMs: number): Promise<boolean>;
  /** Gives a held run back without finishing it (clean shutdown): another worker resumes it at once. */
  releaseRun(lease: RunLease, nowMs: number): Promise<void>;
  /**
   * Cancels the run and its non-terminal descendants; returns the ids that moved to Cancelled.
   * `origin` (the cancelling engine's workerId) goes with the run-finished notice on PostgreSQL.
   */
  cancelRun(runId: string, nowMs: number, origin?: string): Promise<string[]>;
  /** Failed/TimedOut/Cancelled/Crashed → Pending, keeping only Completed steps. */
  resetForRetry(runId: string, nowMs: number): Promise<boolean>;
  /** Adds one wake-up to the run (and makes it runnable now if Waiting). */
  wake(runId: string, nowMs: number): Promise<void>;
  /** Terminal runs whose parent should be woken (children report back). */
  parentOf(runId: string): Promise<string | null>;

  listSteps(runId: string): Promise<StepRecord[]>;
  getStep(runId: string, key: string): Promise<StepRecord | undefined>;
  /**
   * Creates the step, or starts another attempt of an unfinished one. Returns the stored row: if it
   * is already finished (Completed, or Failed/Skipped on replay) the caller replays it instead. A
   * Retrying step whose `wake_ms` is after `nowMs` is not started: the row comes back unchanged
   * (still Retrying), and that — not a later look at the clock — tells the caller it is not due.
   * Throws LeaseLostError (writing nothing) when `step.lease` is no longer current.
   */
  beginStep(step: BeginStep): Promise<StepRecord>;
  /** Records a final state and output/error; never overwrites a Completed step. Throws LeaseLostError (see beginStep). */
  finishStep(lease: RunLease, key: string, outcome: StepOutcome): Promise<boolean>;
  /**
   * Records a step that ran without a begin row (no retries, no timeout) in one write: created
   * finished. Never overwrites a Completed step. False when the journal already had it Completed.
   * Throws LeaseLostError (see beginStep).
   */
  recordStep(step: RecordStep): Promise<boolean>;
  /** Marks an unfinished step as Retrying / Waiting / Pending with its error so far. Throws LeaseLostError (see beginStep). */
  markStep(lease: RunLease, key: string, state: RunState, fields: { error?: RecordedError | null; wakeMs?: number | null }): Promise<void>;

  appendEvent(event: NewRunEvent): Promise<void>;
  listEvents(runId: string, options?: { type?: RunEventRecord['type']; stepKey?: string }): Promise<RunEventRecord[]>;

  /** Subscribes the run to an event name from now on (idempotent); `matchJson` is an object subset or null. */
  subscribe(runId: string, name: string, matchJson: string | null, nowMs: number): Promise<void>;
  /** Buffers the event for every subscribed non-terminal run and wakes them; returns their subscriptions. */
  deliverEvent(name: string, payloadJson: string | null, nowMs: number): Promise<Array<{ runId: string; matchJson: string | null }>>;
  /** Buffers a signal for one run; false when the run is unknown or finished. */
  deliverSignal(runId: string, name: string, payloadJson: string | null, nowMs: number): Promise<boolean>;
  /**
   * The first buffered event/signal of `name` this step may consume, in delivery order: the one it
   * consumed before (replay after a crash), else the first unconsumed one `accept` takes.
   */
  consumeInbox(runId: string, kind: 'event' | 'signal', name: string, stepKey: string, accept: (payload: unknown) => boolean): Promise<{ payload: unknown } | undefined>;

  /**
   * Takes a free slot of `tag` below `limit` (free: no row, or its lease expired) for one task of a
   * run; false when all are taken. The slot's lease is renewed by `heartbeat` of the run.
   */
  acquireTagSlot(request: TagSlotRequest): Promise<boolean>;
  /** Frees the slot a task holds (no-op if it holds none). `finishRun` and `releaseRun` free a run's slots too. */
  releaseTagSlot(tag: string, runId: string, stepKey: string): Promise<void>;

  getCache(cacheKey: string, nowMs: number): Promise<{ outputJson: string | null } | undefined>;
  putCache(cacheKey: string, outputJson: string | null, nowMs: number, expiresMs: number | null): Promise<void>;
}

/**
 * One claim of one run: who claimed it and the token that claim wrote to the run row. The token is
 * new on every claim, so it tells two claims by the same worker apart.
 */
export interface RunLease {
  readonly runId: string;
  /** The claiming worker's id (also the run row's `lease_owner`). */
  readonly owner: string;
  readonly token: string;
}

export interface TagSlotRequest {
  tag: string;
  limit: number;
  runId: string;
  stepKey: string;
  owner: string;
  leaseUntilMs: number;
  nowMs: number;
}

export interface NewRun {
  id: string;
  kind: RunKind;
  name: string;
  paramsJson: string | null;
  parentRunId: string | null;
  deploymentId: string | null;
  idempotencyKey: string | null;
  tags: readonly string[];
  scheduledMs: number;
  nowMs: number;
}

export interface ClaimRequest {
  workerId: string;
  names: readonly string[];
  queues: readonly string[];
  limit: number;
  leaseMs: number;
  nowMs: number;
}

export interface ClaimedRun {
  run: RunRecord;
  /** The state before the claim: Running means the previous holder's lease expired (it crashed). */
  previousState: RunState;
  previousOwner: string | null;
  /** The run's wake-up counter at claim time (see `suspendRun`). */
  wakeups: number;
  /** This claim: every write its executor makes carries it. */
  lease: RunLease;
}

export interface RunOutcome {
  state: RunState;
  resultJson: string | null;
  error: RecordedError | null;
  /** Shown on the timeline with the transition. */
  message: string | null;
  nowMs: number;
}

export interface BeginStep {
  lease: RunLease;
  key: string;
  kind: StepKind;
  inputJson: string | null;
  inputHash: string | null;
  queue: string | null;
  /** Running for work about to execute; Pending for a task waiting for another worker queue. */
  state: RunState;
  wakeMs?: number | null;
  nowMs: number;
}

export interface RecordStep {
  lease: RunLease;
  key: string;
  kind: StepKind;
  state: RunState;
  outputJson: string | null;
  error: RecordedError | null;
  startedMs: number;
  nowMs: number;
}

export interface StepOutcome {
  state: RunState;
  outputJson: string | null;
  error: RecordedError | null;
  cached?: boolean;
  nowMs: number;
}

export interface NewRunEvent {
  runId: string;
  stepKey: string | null;
  type: RunEventRecord['type'];
  state?: RunState | null;
  level?: LogLevel | null;
  message?: string | null;
  dataJson?: string | null;
  atMs: number;
}
