import { InvalidFlowError } from '../../errors.js';
import { RunState } from '../../core/states.js';
import { encodeRecordable, recordError } from '../journal/recordable.js';
import type { ExecutionOutcome, RunExecution } from '../runtime/execution.js';
import { Semaphore } from '../runtime/semaphore.js';
import { FINISHED_STEP_STATES, runStep, type StepResult } from '../runtime/step-runner.js';
import { StepKind, type RecordedError, type StepRecord } from '../types.js';
import type { FlowDefinition, FlowParams, TaskContext, TaskDefinition } from './define.js';
import { evaluateTriggerRule, type TaskOutcome } from './trigger-rules.js';

const DEFAULT_QUEUE = 'default';
const UPSTREAM_FAILED = 'UpstreamFailed';
const SKIPPED = 'Skipped';

interface Finished {
  outcome: TaskOutcome;
  output: unknown;
  error: RecordedError | null;
}

/**
 * Executes (or resumes) one flow run on this worker.
 *
 * The journal is read once: tasks it already finished are not run again, their outputs feed their
 * downstreams. Then tasks are started as soon as their trigger rule allows, in parallel up to the
 * flow's concurrency and tag limits. A ready task that needs a worker queue this worker does not
 * serve is parked (its step recorded Pending with that queue); once nothing else can progress here
 * the run is handed over to that queue — the run moves between workers, never a task alone.
 */
export async function executeFlow(execution: RunExecution, definition: FlowDefinition): Promise<ExecutionOutcome> {
  const { repo, run } = execution;
  const journal = new Map<string, StepRecord>((await repo.listSteps(run.id)).map((step) => [step.key, step]));
  const finished = new Map<string, Finished>();
  for (const name of definition.order) {
    const row = journal.get(name);
    if (row !== undefined && FINISHED_STEP_STATES.has(row.state)) finished.set(name, fromRow(row));
  }

  const flowSlots = new Semaphore(definition.concurrency);
  const tagSlots = new Map(Object.entries(definition.tagConcurrency).map(([tag, limit]) => [tag, new Semaphore(limit)]));
  const running = new Map<string, Promise<void>>();
  const parked = new Map<string, string>();
  const dirty = new Set(definition.order.filter((name) => !finished.has(name)));
  /** Tasks whose retry is recorded for later, by wake time. */
  const deferred = new Map<string, number>();
  const retryTimers = new Set<ReturnType<typeof execution.clock.setTimer>>();
  let interrupted = false;
  let wake: () => void = () => undefined;

  const settle = (name: string, result: Finished): void => {
    finished.set(name, result);
    for (const next of definition.downstream.get(name) ?? []) if (!finished.has(next)) dirty.add(next);
  };

  // While other tasks keep this run busy, a due retry runs here; once nothing else is running, the
  // run is parked until the earliest retry instead (see the end of the loop).
  const defer = (name: string, wakeMs: number): void => {
    deferred.set(name, wakeMs);
    const arm = (): void => {
      const handle = execution.clock.setTimer(() => {
        retryTimers.delete(handle);
        if (!deferred.has(name)) return;
        // Node schedules timers off the event loop's cached time, so under load one can fire a few
        // ms before clock.now() reaches wakeMs; the store would refuse the attempt as not due.
        if (execution.clock.now() < wakeMs) return arm();
        deferred.delete(name);
        dirty.add(name);
        wake();
      }, Math.max(0, wakeMs - execution.clock.now()));
      retryTimers.add(handle);
    };
    arm();
  };

  const start = (name: string, task: TaskDefinition): void => {
    const promise = runTask(execution, definition, task, name, upstreamOf(task, finished), flowSlots, tagSlots).then(
      (result) => {
        if (result === 'interrupted') interrupted = true;
        else if ('wakeMs' in result) defer(name, result.wakeMs);
        else settle(name, result);
      },
      (error: unknown) => {
        // A store failure while recording: stop this run here, the next worker resumes it.
        execution.logger.error({ err: error, runId: run.id, task: name }, 'flow task could not be recorded');
        interrupted = true;
      },
    );
    running.set(
      name,
      promise.finally(() => {
        running.delete(name);
        wake();
      }),
    );
  };

  for (;;) {
    if (!interrupted && !execution.signal.aborted) {
      for (const name of [...dirty]) {
        const task = definition.tasks.get(name) as TaskDefinition;
        const needs = task.needs ?? [];
        const decision = evaluateTriggerRule(task.triggerRule ?? 'all_success', needs.map((need) => finished.get(need)?.outcome));
        if (decision === 'wait') {
          dirty.delete(name);
          continue;
        }
        dirty.delete(name);
        if (decision === 'skip' || decision === 'upstream_failed') {
          settle(name, await recordSkip(execution, name, needs, finished, decision));
          continue;
        }
        const queue = task.queue ?? DEFAULT_QUEUE;
        if (!execution.queues.has(queue)) {
          await repo.beginStep({ lease: execution.lease, key: name, kind: StepKind.Task, inputJson: null, inputHash: null, queue, state: RunState.Pending, nowMs: execution.clock.now() });
          execution.emitStep(name, StepKind.Task, RunState.Pending, 0);
          parked.set(name, queue);
          continue;
        }
        start(name, task);
      }
    }
    if (running.size === 0 && (dirty.size === 0 || interrupted || execution.signal.aborted)) break;
    const stopping = interrupted || execution.signal.aborted;
    // Only sleep when there is nothing new to look at; a task may have finished during the awaits above.
    if (running.size > 0 && (dirty.size === 0 || stopping)) await new Promise<void>((resolve) => (wake = resolve));
  }

  for (const handle of retryTimers) execution.clock.clearTimer(handle);
  if (interrupted || execution.signal.aborted) return { type: 'interrupted' };
  const [firstParked] = parked.values();
  if (firstParked !== undefined) return { type: 'handoff', queue: firstParked };
  if (deferred.size > 0) return { type: 'suspended', wakeMs: Math.min(...deferred.values()) };
  return finalOutcome(definition, finished);
}

function fromRow(row: StepRecord): Finished {
  if (row.state === RunState.Completed) return { outcome: 'success', output: row.output, error: null };
  if (row.state === RunState.Skipped) return { outcome: row.error?.name === UPSTREAM_FAILED ? 'upstream_failed' : 'skipped', output: undefined, error: row.error };
  return { outcome: 'failed', output: undefined, error: row.error };
}

function upstreamOf(task: TaskDefinition, finished: ReadonlyMap<string, Finished>): Record<string, unknown> {
  const upstream: Record<string, unknown> = {};
  for (const need of task.needs ?? []) {
    const done = finished.get(need);
    upstream[need] = done?.outcome === 'success' ? done.output : undefined;
  }
  return upstream;
}

async function recordSkip(
  execution: RunExecution,
  name: string,
  needs: readonly string[],
  finished: ReadonlyMap<string, Finished>,
  decision: 'skip' | 'upstream_failed',
): Promise<Finished> {
  const culprits = needs.filter((need) => {
    const outcome = finished.get(need)?.outcome;
    return decision === 'skip' ? outcome === 'skipped' || outcome === 'success' : outcome === 'failed' || outcome === 'upstream_failed';
  });
  const error: RecordedError =
    decision === 'upstream_failed'
      ? { name: UPSTREAM_FAILED, message: `not run: upstream ${culprits.join(', ')} failed` }
      : { name: SKIPPED, message: `skipped by its trigger rule (upstream: ${needs.map((need) => `${need}=${finished.get(need)?.outcome ?? 'pending'}`).join(', ')})` };
  const { repo, clock } = execution;
  await repo.beginStep({ lease: execution.lease, key: name, kind: StepKind.Task, inputJson: null, inputHash: null, queue: null, state: RunState.Pending, nowMs: clock.now() });
  await repo.finishStep(execution.lease, name, { state: RunState.Skipped, outputJson: null, error, nowMs: clock.now() });
  execution.emitStep(name, StepKind.Task, RunState.Skipped, 0);
  return { outcome: decision === 'skip' ? 'skipped' : 'upstream_failed', output: undefined, error };
}

async function runTask(
  execution: RunExecution,
  definition: FlowDefinition,
  task: TaskDefinition,
  name: string,
  upstream: Record<string, unknown>,
  flowSlots: Semaphore,
  tagSlots: ReadonlyMap<string, Semaphore>,
): Promise<Finished | 'interrupted' | { wakeMs: number }> {
  if (task.map === undefined) return toFinished(await runOne(execution, definition, task, name, name, upstream, null, flowSlots, tagSlots));
  const { repo, clock } = execution;
  const parent = await repo.beginStep({ lease: execution.lease, key: name, kind: StepKind.Task, inputJson: null, inputHash: null, queue: task.queue ?? null, state: RunState.Running, nowMs: clock.now() });
  if (FINISHED_STEP_STATES.has(parent.state)) return fromRow(parent);
  execution.emitStep(name, StepKind.Task, RunState.Running, parent.attempt);
  const items = upstream[task.map];
  if (!Array.isArray(items)) {
    const error = recordError(
      new InvalidFlowError(`task '${name}' maps over '${task.map}', whose output is ${items === null ? 'null' : typeof items}, not an array.`, {
        details: { flow: definition.name, task: name, map: task.map },
      }),
    );
    await repo.finishStep(execution.lease, name, { state: RunState.Failed, outputJson: null, error, nowMs: clock.now() });
    execution.emitStep(name, StepKind.Task, RunState.Failed, parent.attempt);
    return { outcome: 'failed', output: undefined, error };
  }
  const results = await Promise.all(
    items.map((item: unknown, index) => runOne(execution, definition, task, name, `${name}[${index}]`, { ...upstream, [task.map as string]: item }, index, flowSlots, tagSlots)),
  );
  if (results.some((result) => result.ok === 'interrupted')) return 'interrupted';
  // Items that finished are journaled; the mapped task resumes with the deferred ones.
  const wakes = results.flatMap((result) => (result.ok === 'deferred' ? [result.wakeMs] : []));
  if (wakes.length > 0) return { wakeMs: Math.min(...wakes) };
  const failedIndex = results.findIndex((result) => result.ok === false);
  if (failedIndex >= 0) {
    const failed = results[failedIndex] as { ok: false; error: Error };
    const error: RecordedError = { ...recordError(failed.error), message: `item ${failedIndex} failed: ${failed.error.message}` };
    await repo.finishStep(execution.lease, name, { state: RunState.Failed, outputJson: null, error, nowMs: clock.now() });
    execution.emitStep(name, StepKind.Task, RunState.Failed, parent.attempt);
    return { outcome: 'failed', output: undefined, error };
  }
  const outputs = results.map((result) => (result.ok === true ? result.output : undefined));
  const outputJson = encodeRecordable(outputs, `The mapped outputs of task '${name}'`, execution.maxRecordBytes);
  await repo.finishStep(execution.lease, name, { state: RunState.Completed, outputJson, error: null, nowMs: clock.now() });
  execution.emitStep(name, StepKind.Task, RunState.Completed, parent.attempt);
  return { outcome: 'success', output: outputs, error: null };
}

function toFinished(result: StepResult<unknown>): Finished | 'interrupted' | { wakeMs: number } {
  if (result.ok === 'interrupted') return 'interrupted';
  if (result.ok === 'deferred') return { wakeMs: result.wakeMs };
  if (result.ok) return { outcome: 'success', output: result.output, error: null };
  return { outcome: 'failed', output: undefined, error: recordError(result.error) };
}

async function runOne(
  execution: RunExecution,
  definition: FlowDefinition,
  task: TaskDefinition,
  name: string,
  key: string,
  upstream: Record<string, unknown>,
  mapIndex: number | null,
  flowSlots: Semaphore,
  tagSlots: ReadonlyMap<string, Semaphore>,
): Promise<StepResult<unknown>> {
  const releases: Array<() => void | Promise<void>> = [];
  try {
    // Tags in a fixed order, then the flow slot: one acquisition order everywhere (every run, every
    // worker), so no deadlock. Per tag: this run's semaphore first (tasks of one run queue in
    // memory), then the store slot that makes the limit global across runs and workers.
    for (const tag of [...(task.tags ?? [])].sort()) {
      const slots = tagSlots.get(tag);
      if (slots === undefined) continue;
      releases.push(await slots.acquire());
      try {
        releases.push(await execution.acquireTagSlot(tag, definition.tagConcurrency[tag] as number, key));
      } catch (error) {
        if (execution.signal.aborted) return { ok: 'interrupted' };
        throw error;
      }
    }
    releases.push(await flowSlots.acquire());
    if (execution.signal.aborted) return { ok: 'interrupted' };
    const params = execution.run.params as FlowParams;
    const context = (attempt: number, signal: AbortSignal): TaskContext => ({
      runId: execution.run.id,
      flowName: definition.name,
      taskName: name,
      stepKey: key,
      params,
      attempt,
      mapIndex,
      signal,
      log: execution.stepLogger(key),
    });
    const hookContext = (attempt: number): TaskContext => context(attempt, execution.signal);
    const cache = task.cache;
    const cacheKey = cache === undefined ? undefined : `${definition.name}:${key}:${cache.key({ params, upstream, task: name, mapIndex })}`;
    return await runStep(execution, {
      key,
      kind: StepKind.Task,
      inputJson: inputJsonOf(upstream, mapIndex, execution.maxRecordBytes),
      queue: task.queue ?? null,
      retries: task.retries,
      timeoutMs: task.timeoutMs,
      label: `task '${key}'`,
      run: (attempt, signal) => task.run(context(attempt, signal), upstream),
      onRetry: (error, delayMs, attempt) => task.onRetry?.(hookContext(attempt), error, delayMs),
      onSuccess: (output, attempt) => task.onSuccess?.(hookContext(attempt), output),
      onFailure: (error, attempt) => task.onFailure?.(hookContext(attempt), error),
      cached: cacheKey === undefined ? undefined : () => execution.repo.getCache(cacheKey, execution.clock.now()),
      afterSuccess:
        cacheKey === undefined
          ? undefined
          : (outputJson) => {
              const nowMs = execution.clock.now();
              return execution.repo.putCache(cacheKey, outputJson, nowMs, cache?.expiresInMs === undefined ? null : nowMs + cache.expiresInMs);
            },
    });
  } finally {
    // A slot that cannot be freed (store down) frees itself when the run's lease expires.
    for (const release of releases.reverse()) await Promise.resolve(release()).catch((error: unknown) => execution.logger.warn({ err: error, key }, 'could not free a tag slot'));
  }
}

/** The task's input as the journal shows it; too big or unrecordable inputs are left out, not fatal. */
function inputJsonOf(upstream: Record<string, unknown>, mapIndex: number | null, maxBytes: number): string | null {
  if (Object.keys(upstream).length === 0 && mapIndex === null) return null;
  try {
    return encodeRecordable(mapIndex === null ? { upstream } : { upstream, mapIndex }, 'task input', maxBytes);
  } catch {
    return null;
  }
}

/**
 * Airflow's rule for the run's state: it failed if any leaf task (one nothing depends on) failed or
 * was upstream-failed; otherwise it completed (skips included). The result is the leaves' outputs.
 */
function finalOutcome(definition: FlowDefinition, finished: ReadonlyMap<string, Finished>): ExecutionOutcome {
  const leaves = definition.order.filter((name) => (definition.downstream.get(name) ?? []).length === 0);
  const failedLeaf = leaves.some((leaf) => {
    const outcome = finished.get(leaf)?.outcome;
    return outcome === 'failed' || outcome === 'upstream_failed';
  });
  const result = Object.fromEntries(leaves.filter((leaf) => finished.get(leaf)?.outcome === 'success').map((leaf) => [leaf, finished.get(leaf)?.output]));
  if (!failedLeaf) return { type: 'finished', state: RunState.Completed, result, error: null };
  const culprit = definition.order.find((name) => finished.get(name)?.outcome === 'failed');
  const cause = culprit === undefined ? undefined : finished.get(culprit)?.error;
  const error = new Error(culprit === undefined ? 'a leaf task did not succeed' : `task '${culprit}' failed: ${cause?.message ?? 'unknown error'}`);
  error.name = 'FlowFailed';
  return { type: 'finished', state: RunState.Failed, result, error };
}
