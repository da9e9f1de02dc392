import { ConfigError, KairosError, TimeoutError, ErrorCode } from '../../errors.js';
import { parseDuration, type Duration } from '../../core/duration.js';
import { RunState, isTerminal } from '../../core/states.js';
import { encodeRecordable, recordError } from '../journal/recordable.js';
import type { ExecutionOutcome, RunExecution } from '../runtime/execution.js';
import { FINISHED_STEP_STATES, replayStep, runStep, runStepInOneWrite } from '../runtime/step-runner.js';
import { matchesSubset } from '../store/rows.js';
import { StepKind, type StepRecord } from '../types.js';
import type { ChildHandle, StepContext, StepOptions, WaitForEventOptions, WorkflowContext, WorkflowDefinition } from './define.js';

/** Returned by an operation that must stop the run here (it waits); the user never sees it. */
const HALT: unique symbol = Symbol('halt');
type OpResult<T> = { value: T } | { thrown: unknown } | typeof HALT;

const STEP_NAME = /^[^$#][^#]*$/;

/**
 * Executes (or resumes) one workflow run by replay: the function runs from the top, and every
 * context call whose journal entry is finished returns the recorded value at once. The first call
 * that must wait (a sleep not yet due, an event not yet delivered, a child not yet done) halts the
 * function — its promise never settles, so user code cannot swallow the halt — and the run is
 * suspended until the earliest wake time among the waits registered. Operations already in flight
 * are allowed to finish and record first.
 */
export async function executeWorkflow(execution: RunExecution, definition: WorkflowDefinition): Promise<ExecutionOutcome> {
  const { repo, run, clock } = execution;
  const counters = new Map<string, number>();
  const inFlight = new Set<Promise<unknown>>();
  let suspending = false;
  let wakeMs: number | null = null;
  let fatal: unknown;
  let onHalt: () => void = () => undefined;
  const halted = new Promise<void>((resolve) => (onHalt = resolve));
  // The journal as it was when this execution began: keys it lacks are new (this worker holds the
  // lease, and each key is visited once per execution), so plain steps and now()/random() are
  // recorded in one write without a begin row.
  const journal = new Map((await repo.listSteps(run.id)).map((row) => [row.key, row]));

  const nextKey = (base: string): string => {
    const n = (counters.get(base) ?? 0) + 1;
    counters.set(base, n);
    return `${base}#${n}`;
  };
  const waitUntil = (ms: number | null): typeof HALT => {
    if (ms !== null) wakeMs = wakeMs === null ? ms : Math.min(wakeMs, ms);
    suspending = true;
    onHalt();
    return HALT;
  };
  /** Runs one journaled operation; store failures stop the run instead of reaching user code. */
  const op = <T>(work: () => Promise<OpResult<T>>): Promise<T> => {
    if (suspending || fatal !== undefined || execution.signal.aborted) return new Promise<T>(() => undefined);
    const internal: Promise<OpResult<T>> = work().catch((error: unknown): OpResult<T> => {
      fatal = error;
      onHalt();
      return HALT;
    });
    inFlight.add(internal);
    void internal.finally(() => inFlight.delete(internal));
    return internal.then((result) => {
      if (result === HALT) return new Promise<T>(() => undefined);
      if ('thrown' in result) throw result.thrown;
      return result.value;
    });
  };
  const finishedRow = async (key: string): Promise<StepRecord | undefined> => {
    const row = await repo.getStep(run.id, key);
    return row;
  };
  const complete = async (key: string, kind: StepKind, value: unknown): Promise<void> => {
    await repo.finishStep(execution.lease, key, { state: RunState.Completed, outputJson: encodeRecordable(value, `step '${key}'`, execution.maxRecordBytes), error: null, nowMs: clock.now() });
    execution.emitStep(key, kind, RunState.Completed, 1);
  };
  const waitStep = async (key: string, kind: StepKind, input: unknown, wake: number | null): Promise<StepRecord> => {
    const row = await repo.beginStep({
      lease: execution.lease,
      key,
      kind,
      inputJson: encodeRecordable(input, `the input of '${key}'`, execution.maxRecordBytes),
      inputHash: null,
      queue: null,
      state: RunState.Waiting,
      wakeMs: wake,
      nowMs: clock.now(),
    });
    execution.emitStep(key, kind, RunState.Waiting, row.attempt);
    return row;
  };
  const recorded = <T>(key: string, kind: StepKind, produce: () => T): Promise<T> =>
    op(async () => {
      const row = journal.get(key);
      if (row !== undefined && FINISHED_STEP_STATES.has(row.state)) return { value: row.output as T };
      const nowMs = clock.now();
      const value = produce();
      const outputJson = encodeRecordable(value, `step '${key}'`, execution.maxRecordBytes);
      if (!(await repo.recordStep({ lease: execution.lease, key, kind, state: RunState.Completed, outputJson, error: null, startedMs: nowMs, nowMs }))) {
        const stored = await repo.getStep(run.id, key);
        if (stored !== undefined) return { value: stored.output as T };
      }
      execution.emitStep(key, kind, RunState.Completed, 1);
      return { value };
    });

  const waitInbox = <T>(kind: 'event' | 'signal', name: string, timeoutMs: number | undefined, match: WaitForEventOptions<T>['match']): Promise<T> => {
    if (typeof name !== 'string' || name.length === 0) throw new ConfigError(`waitFor${kind === 'event' ? 'Event' : 'Signal'}: name must be a non-empty string.`, { details: { field: 'name' } });
    const key = nextKey(`$${kind}:${name}`);
    const stepKind = kind === 'event' ? StepKind.Event : StepKind.Signal;
    return op<T>(async () => {
      let row = await finishedRow(key);
      if (row !== undefined && FINISHED_STEP_STATES.has(row.state)) return replayed<T>(row);
      const matchJson = match !== undefined && typeof match === 'object' ? JSON.stringify(match) : null;
      if (kind === 'event') await repo.subscribe(run.id, name, matchJson, clock.now());
      if (row === undefined) {
        const deadline = timeoutMs === undefined ? null : clock.now() + timeoutMs;
        row = await waitStep(key, stepKind, { name, timeoutMs: timeoutMs ?? null, deadlineMs: deadline, match: matchJson === null ? null : (JSON.parse(matchJson) as unknown) }, deadline);
      }
      const accept =
        typeof match === 'function' ? (payload: unknown) => (match as (p: unknown) => boolean)(payload) : match === undefined ? () => true : (payload: unknown) => matchesSubset(payload, match);
      const hit = await repo.consumeInbox(run.id, kind, name, key, accept);
      if (hit !== undefined) {
        await complete(key, stepKind, hit.payload);
        return { value: hit.payload as T };
      }
      const deadline = row.wakeMs;
      if (deadline !== null && clock.now() >= deadline) {
        const error = new TimeoutError(`${kind} '${name}' did not arrive within ${timeoutMs ?? '?'} ms (${key}).`, { details: { name, key, timeoutMs } });
        await repo.finishStep(execution.lease, key, { state: RunState.TimedOut, outputJson: null, error: recordError(error), nowMs: clock.now() });
        execution.emitStep(key, stepKind, RunState.TimedOut, row.attempt);
        return { thrown: error };
      }
      return waitUntil(deadline);
    });
  };

  const context: WorkflowContext = {
    runId: run.id,
    workflowName: definition.name,
    input: run.params,
    signal: execution.signal,
    log: execution.stepLogger('$workflow'),
    step<T>(name: string, fn: (ctx: StepContext) => Promise<T> | T, options: StepOptions = {}): Promise<T> {
      if (typeof name !== 'string' || !STEP_NAME.test(name))
        throw new ConfigError(`step name '${String(name)}' is not allowed: use a non-empty name without '#' that does not start with '$'.`, { details: { field: 'name' } });
      const key = nextKey(name);
      return op<T>(async () => {
        const spec = {
          key,
          kind: StepKind.Step,
          inputJson: null,
          retries: options.retries,
          timeoutMs: options.timeoutMs,
          label: `step '${key}'`,
          run: (attempt: number, signal: AbortSignal) => fn({ attempt, signal, log: execution.stepLogger(key) }),
        };
        const oneWrite = journal.get(key) === undefined && (options.retries?.count ?? 0) === 0 && options.timeoutMs === undefined;
        const result = oneWrite ? await runStepInOneWrite<T>(execution, spec) : await runStep<T>(execution, spec);
        if (result.ok === 'interrupted') return HALT;
        if (result.ok === 'deferred') return waitUntil(result.wakeMs);
        return result.ok ? { value: result.output } : { thrown: result.error };
      });
    },
    sleep(duration: Duration): Promise<void> {
      const durationMs = parseDuration(duration, 'sleep duration', { allowZero: true });
      const key = nextKey('$sleep');
      return op<void>(async () => {
        let row = await finishedRow(key);
        if (row !== undefined && FINISHED_STEP_STATES.has(row.state)) return { value: undefined };
        if (row === undefined) {
          const wake = clock.now() + durationMs;
          row = await waitStep(key, StepKind.Sleep, { durationMs, wakeMs: wake }, wake);
        }
        const wake = row.wakeMs ?? 0;
        if (clock.now() >= wake) {
          await complete(key, StepKind.Sleep, null);
          return { value: undefined };
        }
        return waitUntil(wake);
      });
    },
    waitForEvent<T>(name: string, options: WaitForEventOptions<T> = {}): Promise<T> {
      return waitInbox<T>('event', name, options.timeoutMs, options.match);
    },
    waitForSignal<T>(name: string, options: { timeoutMs?: number } = {}): Promise<T> {
      return waitInbox<T>('signal', name, options.timeoutMs, undefined);
    },
    startChild<T>(name: string, input?: unknown): Promise<ChildHandle<T>> {
      const key = nextKey(`$child:${name}`);
      return op<ChildHandle<T>>(async () => {
        const row = await repo.beginStep({
          lease: execution.lease,
          key,
          kind: StepKind.Child,
          inputJson: encodeRecordable(input, `the input of child '${name}'`, execution.maxRecordBytes),
          inputHash: null,
          queue: null,
          state: RunState.Running,
          nowMs: clock.now(),
        });
        let childId: string;
        if (row.state === RunState.Completed) childId = (row.output as { runId: string }).runId;
        else if (FINISHED_STEP_STATES.has(row.state)) return replayed<ChildHandle<T>>(row);
        else {
          // The idempotency key makes the child exactly-once even if we crash before recording it.
          try {
            childId = await execution.startChild(name, input, `${run.id}:${key}`);
          } catch (error) {
            if (!(error instanceof KairosError) || error.code === ErrorCode.Store) throw error;
            await repo.finishStep(execution.lease, key, { state: RunState.Failed, outputJson: null, error: recordError(error), nowMs: clock.now() });
            return { thrown: error };
          }
          await complete(key, StepKind.Child, { runId: childId });
        }
        return { value: childHandle<T>(childId, `${key}:result`) };
      });
    },
    now: () => recorded(nextKey('$now'), StepKind.Now, () => clock.now()),
    random: () => recorded(nextKey('$random'), StepKind.Random, () => Math.random()),
  };

  const childHandle = <T>(childId: string, key: string): ChildHandle<T> => ({
    runId: childId,
    result: () =>
      op<T>(async () => {
        let row = await finishedRow(key);
        if (row !== undefined && FINISHED_STEP_STATES.has(row.state)) return replayed<T>(row);
        const child = await repo.getRun(childId);
        row ??= await waitStep(key, StepKind.Child, { childRunId: childId }, null);
        if (child === undefined || !isTerminal(child.state)) return waitUntil(null);
        if (child.state === RunState.Completed) {
          await complete(key, StepKind.Child, child.result);
          return { value: child.result as T };
        }
        const error = new Error(`child run ${childId} (${child.name}) ended ${child.state}${child.error === null ? '' : `: ${child.error.message}`}`);
        error.name = 'ChildRunFailed';
        await repo.finishStep(execution.lease, key, { state: RunState.Failed, outputJson: null, error: recordError(error), nowMs: clock.now() });
        execution.emitStep(key, StepKind.Child, RunState.Failed, row.attempt);
        return { thrown: error };
      }),
  });

  const aborted = new Promise<'aborted'>((resolve) => {
    if (execution.signal.aborted) resolve('aborted');
    else execution.signal.addEventListener('abort', () => resolve('aborted'), { once: true });
  });
  const body = Promise.resolve()
    .then(() => definition.fn(context, run.params))
    .then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
  const first = await Promise.race([body, halted.then(() => 'halted' as const), aborted]);
  // Let operations already started record their results before the run changes hands.
  while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
  if (first === 'aborted' || execution.signal.aborted || fatal !== undefined) {
    if (fatal !== undefined) execution.logger.error({ err: fatal, runId: run.id }, 'workflow operation could not be recorded; the run will be resumed');
    return { type: 'interrupted' };
  }
  if (first === 'halted') return { type: 'suspended', wakeMs };
  if ('error' in first) {
    const state = first.error instanceof TimeoutError ? RunState.TimedOut : RunState.Failed;
    return { type: 'finished', state, result: undefined, error: first.error };
  }
  return { type: 'finished', state: RunState.Completed, result: first.value, error: null };
}

function replayed<T>(row: StepRecord): OpResult<T> {
  const result = replayStep<T>(row);
  if (result.ok === true) return { value: result.output };
  if (result.ok === false) return { thrown: result.error };
  // 'interrupted' / 'deferred' never come from replaying a finished row.
  return HALT;
}

