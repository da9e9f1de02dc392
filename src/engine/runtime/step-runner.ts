import { AbortedError, StepOutputNotRecordableError, TimeoutError } from '../../errors.js';
import { RunState } from '../../core/states.js';
import { encodeRecordable, hashInput, recordError } from '../journal/recordable.js';
import { reviveError } from '../journal/revive-error.js';
import type { StepKind, StepRecord } from '../types.js';
import { retryDelayMs, runAttempt, type RetryPolicy } from './attempts.js';
import type { RunExecution } from './execution.js';

export interface StepSpec<T> {
  key: string;
  kind: StepKind;
  /** Recorded with the step (hashed for `inputHash`); already-encoded JSON or null. */
  inputJson: string | null;
  queue?: string | null;
  retries?: RetryPolicy;
  timeoutMs?: number;
  /** For messages: "task 'train'", "step 'charge'". */
  label: string;
  run: (attempt: number, signal: AbortSignal) => Promise<T> | T;
  onRetry?: (error: unknown, delayMs: number, attempt: number) => unknown;
  onSuccess?: (output: T, attempt: number) => unknown;
  onFailure?: (error: unknown, attempt: number) => unknown;
  /** Skip executing if this returns a recorded output (the task cache). */
  cached?: () => Promise<{ outputJson: string | null } | undefined>;
  afterSuccess?: (outputJson: string | null) => Promise<void>;
}

export type StepResult<T> =
  | { ok: true; output: T; replayed: boolean }
  | { ok: false; error: Error; state: RunState; replayed: boolean }
  | { ok: 'interrupted' }
  /** A failed attempt will be retried at `wakeMs`; the journal holds that (step Retrying, wake_ms). */
  | { ok: 'deferred'; wakeMs: number };

/** Finished journal states: a step in one of these is replayed, never executed again. */
export const FINISHED_STEP_STATES: ReadonlySet<RunState> = new Set<RunState>([
  RunState.Completed,
  RunState.Failed,
  RunState.TimedOut,
  RunState.Skipped,
  RunState.Cancelled,
]);

export function replayStep<T>(row: StepRecord): StepResult<T> {
  if (row.state === RunState.Completed) return { ok: true, output: row.output as T, replayed: true };
  const error = row.error === null ? new Error(`${row.key} ended ${row.state}`) : reviveError(row.error);
  return { ok: false, error, state: row.state, replayed: true };
}

/**
 * Runs one journaled step: replays it if the journal already has its result, otherwise executes it
 * with retries and a timeout and records the outcome exactly once (UNIQUE run_id + step_key, and a
 * Completed row is never overwritten). Returns `interrupted` when the run's signal fired, leaving the
 * step unfinished in the journal so the next worker runs it again.
 */
export async function runStep<T>(execution: RunExecution, spec: StepSpec<T>): Promise<StepResult<T>> {
  const { repo, clock } = execution;
  const base = { lease: execution.lease, key: spec.key, kind: spec.kind, inputJson: spec.inputJson, inputHash: hashInput(spec.inputJson), queue: spec.queue ?? null };
  // One write both creates the step and tells us whether the journal already finished it.
  let row = await repo.beginStep({ ...base, state: RunState.Running, nowMs: clock.now() });
  if (FINISHED_STEP_STATES.has(row.state)) return replayStep<T>(row);
  // A retry recorded for later (the run was woken early, or resumed elsewhere): not due yet.
  const notDue = notYetDue(row);
  if (notDue !== undefined) return notDue;

  if (spec.cached !== undefined) {
    const hit = await spec.cached();
    if (hit !== undefined) {
      await repo.finishStep(execution.lease, spec.key, { state: RunState.Completed, outputJson: hit.outputJson, error: null, cached: true, nowMs: clock.now() });
      execution.emitStep(spec.key, spec.kind, RunState.Completed, row.attempt);
      return { ok: true, output: (hit.outputJson === null ? undefined : JSON.parse(hit.outputJson)) as T, replayed: false };
    }
  }

  const maxAttempts = (spec.retries?.count ?? 0) + 1;
  for (;;) {
    const attempt = row.attempt;
    execution.emitStep(spec.key, spec.kind, RunState.Running, attempt);
    let failure: unknown;
    try {
      const output = await runAttempt(clock, execution.signal, spec.timeoutMs, spec.label, (signal) => spec.run(attempt, signal));
      const outputJson = encodeRecordable(output, `The output of ${spec.label}`, execution.maxRecordBytes);
      await repo.finishStep(execution.lease, spec.key, { state: RunState.Completed, outputJson, error: null, nowMs: clock.now() });
      execution.emitStep(spec.key, spec.kind, RunState.Completed, attempt);
      if (spec.afterSuccess !== undefined) await spec.afterSuccess(outputJson);
      await safely(execution, spec.key, 'onSuccess', () => spec.onSuccess?.(output, attempt));
      // What the journal holds is what replay returns, so hand the same decoded value back now.
      return { ok: true, output: (outputJson === null ? undefined : JSON.parse(outputJson)) as T, replayed: false };
    } catch (error) {
      failure = error;
    }
    if (execution.signal.aborted && !(failure instanceof TimeoutError)) return { ok: 'interrupted' };
    const retryable =
      !(failure instanceof StepOutputNotRecordableError) && !(failure instanceof AbortedError) && attempt < maxAttempts && (spec.retries?.retryIf?.(failure) ?? true);
    if (!retryable) {
      const state = failure instanceof TimeoutError ? RunState.TimedOut : RunState.Failed;
      await repo.finishStep(execution.lease, spec.key, { state, outputJson: null, error: recordError(failure), nowMs: clock.now() });
      execution.emitStep(spec.key, spec.kind, state, attempt);
      await safely(execution, spec.key, 'onFailure', () => spec.onFailure?.(failure, attempt));
      return { ok: false, error: failure instanceof Error ? failure : new Error(String(failure)), state, replayed: false };
    }
    const delayMs = retryDelayMs(spec.retries ?? { count: 0 }, attempt);
    // A retry with a delay is durable (like a durable sleep): the wake time is in the journal and the
    // caller parks the run, so no worker holds it while it waits and any worker resumes it when due.
    const wakeMs = delayMs > 0 ? clock.now() + delayMs : null;
    await repo.markStep(execution.lease, spec.key, RunState.Retrying, { error: recordError(failure), wakeMs });
    execution.emitStep(spec.key, spec.kind, RunState.Retrying, attempt);
    execution.stepLogger(spec.key).warn(`attempt ${attempt} of ${maxAttempts} failed; retrying in ${delayMs} ms`, { error: recordError(failure) });
    await safely(execution, spec.key, 'onRetry', () => spec.onRetry?.(failure, delayMs, attempt));
    if (wakeMs !== null) return { ok: 'deferred', wakeMs };
    if (execution.signal.aborted) return { ok: 'interrupted' };
    row = await repo.beginStep({ ...base, state: RunState.Running, nowMs: clock.now() });
    if (FINISHED_STEP_STATES.has(row.state)) return replayStep<T>(row);
    const stillWaiting = notYetDue(row);
    if (stillWaiting !== undefined) return stillWaiting;
  }
}

/**
 * After `beginStep(Running)`: a row still Retrying means the store did not start an attempt, because
 * the recorded retry was not due at the `nowMs` the store compared with. That answer is final for
 * this call, whatever the clock says by the time it arrives: re-checking `wakeMs` against a later
 * `clock.now()` (the store round trip took longer than the time left) would run an attempt the
 * journal never began — the previous attempt's number, run a second time. The caller comes back at
 * `wakeMs` instead (at once if that has passed).
 */
function notYetDue(row: StepRecord): { ok: 'deferred'; wakeMs: number } | undefined {
  if (row.state !== RunState.Retrying) return undefined;
  return { ok: 'deferred', wakeMs: row.wakeMs ?? 0 };
}

/** Runs a user hook; a hook that throws is logged on the step, never fails it. */
async function safely(execution: RunExecution, stepKey: string, hook: string, call: () => unknown): Promise<void> {
  try {
    await call();
  } catch (error) {
    execution.stepLogger(stepKey).error(`${hook} hook threw: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** A one-write step still running after this long gets its begin row after all (see below). */
export const BEGIN_ROW_AFTER_MS = 50;

/**
 * The one-write path for a step with no retries and no timeout that the journal does not have yet
 * (the caller read the journal when the execution began): run it, then record it created-finished.
 * Safe because such a step has no attempt count or deadline to keep across a crash: a crash
 * mid-step re-runs it either way. What it changes is visibility: a step that ends within
 * BEGIN_ROW_AFTER_MS appears in the store only once it ended (in-process `step_state` events still
 * report Running); one that runs longer gets its Running row then, so the UI, other processes and
 * `cancel` see slow steps as before. The fast steps of a durable workflow save one write each.
 */
export async function runStepInOneWrite<T>(execution: RunExecution, spec: Pick<StepSpec<T>, 'key' | 'kind' | 'label' | 'run'>): Promise<StepResult<T>> {
  const { repo, run, clock } = execution;
  const startedMs = clock.now();
  execution.emitStep(spec.key, spec.kind, RunState.Running, 1);
  let begun: Promise<unknown> | undefined;
  const beginTimer = clock.setTimer(() => {
    begun = repo
      .beginStep({ lease: execution.lease, key: spec.key, kind: spec.kind, inputJson: null, inputHash: null, queue: null, state: RunState.Running, nowMs: startedMs })
      .catch((error: unknown) => execution.logger.warn({ err: error, key: spec.key }, 'could not record a slow step as Running'));
  }, BEGIN_ROW_AFTER_MS);
  let outputJson: string | null = null;
  let failure: unknown;
  let failed = false;
  try {
    const output = await runAttempt(clock, execution.signal, undefined, spec.label, (signal) => spec.run(1, signal));
    outputJson = encodeRecordable(output, `The output of ${spec.label}`, execution.maxRecordBytes);
  } catch (error) {
    failure = error;
    failed = true;
  }
  clock.clearTimer(beginTimer);
  // The begin row (if any) lands first, so the finished row is never overwritten by it.
  if (begun !== undefined) await begun;
  if (failed && execution.signal.aborted) return { ok: 'interrupted' };
  const state = failed ? RunState.Failed : RunState.Completed;
  const recorded = await repo.recordStep({ lease: execution.lease, key: spec.key, kind: spec.kind, state, outputJson, error: failed ? recordError(failure) : null, startedMs, nowMs: clock.now() });
  if (!recorded) {
    // The journal already had it Completed (only possible if another worker took the run over): replay that.
    const row = await repo.getStep(run.id, spec.key);
    if (row !== undefined) return replayStep<T>(row);
  }
  execution.emitStep(spec.key, spec.kind, state, 1);
  if (failed) return { ok: false, error: failure instanceof Error ? failure : new Error(String(failure)), state, replayed: false };
  return { ok: true, output: (outputJson === null ? undefined : JSON.parse(outputJson)) as T, replayed: false };
}
