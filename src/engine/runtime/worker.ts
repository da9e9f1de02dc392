import { setMaxListeners } from 'node:events';
import type { Clock, TimerHandle } from '../../core/clock.js';
import type { Logger } from '../../core/logger.js';
import { RunState } from '../../core/states.js';
import { AbortedError, LeaseLostError, StepOutputNotRecordableError, WorkflowCancelledError } from '../../errors.js';
import { executeFlow } from '../flow/executor.js';
import type { FlowDefinition } from '../flow/define.js';
import { encodeRecordable, recordError } from '../journal/recordable.js';
import type { ClaimedRun, EngineRepository, RunLease } from '../store/repository.js';
import type { LogLevel, RunRecord, StepKind, StepLogger } from '../types.js';
import { executeWorkflow } from '../workflow/executor.js';
import type { WorkflowDefinition } from '../workflow/define.js';
import type { ExecutionOutcome, RunExecution } from './execution.js';
import { TagSlots } from './tag-slots.js';

type Definition = FlowDefinition | WorkflowDefinition;

/** What the worker needs from the engine: the store, definitions, and the engine's reporting hooks. */
export interface WorkerHost {
  readonly repo: EngineRepository;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly workerId: string;
  readonly queues: ReadonlySet<string>;
  readonly leaseMs: number;
  readonly concurrency: number;
  readonly pollIntervalMs: number;
  readonly maxRecordBytes: number;
  definition(name: string): Definition | undefined;
  definitionNames(): string[];
  recordTransition(run: RunRecord, state: RunState, previous: RunState | null, message?: string): Promise<void>;
  /** Reports a transition the repository already wrote to the timeline (claims, finishes). */
  emitTransition(run: RunRecord, state: RunState, previous: RunState | null): void;
  emitStep(runId: string, stepKey: string, kind: StepKind, state: RunState, attempt: number): void;
  writeLog(runId: string, stepKey: string | null, level: LogLevel, message: string, data: unknown): Promise<void>;
  startChild(parent: RunRecord, name: string, params: unknown, idempotencyKey: string): Promise<string>;
  /** Called once a run this worker finished reached a terminal state. */
  afterFinish(run: RunRecord): Promise<void>;
}

interface ActiveRun {
  run: RunRecord;
  lease: RunLease;
  controller: AbortController;
  /** Why the signal fired, so the outcome can be recorded correctly. */
  stopReason: 'cancelled' | 'shutdown' | 'lease-lost' | null;
  done: Promise<void>;
}

/**
 * The worker loop. It claims runnable runs with a lease, keeps the lease alive with heartbeats
 * (every leaseMs/3), executes each run by replaying its journal, and records what became of it:
 * finished, suspended (Waiting), handed to another queue, or — when it was stopped — released.
 *
 * A run whose worker dies keeps its lease until `lease_until_ms`; then any worker's claim takes it
 * (recording Crashed on the timeline) and resumes it from the journal.
 */
export class RunWorker {
  private readonly active = new Map<string, ActiveRun>();
  private running = false;
  private stopping = false;
  private loopDone: Promise<void> = Promise.resolve();
  private poke: () => void = () => undefined;
  private wakeRequested = false;
  private readonly wakeTimers = new Set<TimerHandle>();
  private readonly tagSlots: TagSlots;

  constructor(private readonly host: WorkerHost) {
    this.tagSlots = new TagSlots(host.repo, host.clock, host.workerId, host.leaseMs, Math.min(host.pollIntervalMs, 1_000));
  }

  get isRunning(): boolean {
    return this.running;
  }

  start(): Promise<void> {
    if (this.running) return Promise.resolve();
    this.running = true;
    this.stopping = false;
    this.loopDone = this.loop();
    return Promise.resolve();
  }

  /** Wakes the claim loop now (a run was created or woken in this process, or a NOTIFY arrived). */
  nudge(): void {
    // A wake-up that arrives while a claim is in flight must not be lost: that claim may have read
    // the store before the new run was committed. The loop claims again instead of sleeping.
    this.wakeRequested = true;
    this.poke();
  }

  /** Wakes the claim loop at `atMs` (a local run sleeping until then, a run scheduled for later). */
  nudgeAt(atMs: number): void {
    if (!this.running) return;
    const handle = this.host.clock.setTimer(() => {
      this.wakeTimers.delete(handle);
      this.nudge();
    }, Math.max(0, atMs - this.host.clock.now()) + 5);
    handle.unref?.();
    this.wakeTimers.add(handle);
  }

  /** Fires the run's signal if this worker is executing it (cancel requested here). */
  cancelLocal(runId: string): void {
    const active = this.active.get(runId);
    if (active === undefined) return;
    active.stopReason = 'cancelled';
    active.controller.abort(new WorkflowCancelledError(`Run ${runId} was cancelled.`, { details: { runId } }));
  }

  async stop(deadlineMs: number): Promise<void> {
    if (!this.running) return;
    this.stopping = true;
    this.poke();
    await this.loopDone;
    const all = Promise.all([...this.active.values()].map((active) => active.done));
    let timer: TimerHandle | undefined;
    const deadline = new Promise<'deadline'>((resolve) => (timer = this.host.clock.setTimer(() => resolve('deadline'), deadlineMs)));
    const first = await Promise.race([all.then(() => 'done' as const), deadline]);
    if (timer !== undefined) this.host.clock.clearTimer(timer);
    if (first === 'deadline') {
      for (const active of this.active.values()) {
        active.stopReason ??= 'shutdown';
        active.controller.abort(new AbortedError('The engine is shutting down; the run is released for another worker.'));
      }
      await all;
    }
    for (const handle of this.wakeTimers) this.host.clock.clearTimer(handle);
    this.wakeTimers.clear();
    this.running = false;
  }

  private async loop(): Promise<void> {
    while (!this.stopping) {
      this.wakeRequested = false;
      const free = this.host.concurrency - this.active.size;
      let full = false;
      if (free > 0) {
        try {
          const claimed = await this.host.repo.claimRuns({
            workerId: this.host.workerId,
            names: this.host.definitionNames(),
            queues: [...this.host.queues],
            limit: free,
            leaseMs: this.host.leaseMs,
            nowMs: this.host.clock.now(),
          });
          for (const item of claimed) this.launch(item);
          full = claimed.length === free;
        } catch (error) {
          this.host.logger.error({ err: error }, 'engine worker could not claim runs; retrying after the poll interval');
        }
      }
      if (this.stopping) break;
      if (full && this.active.size < this.host.concurrency) continue;
      if (this.wakeRequested && this.active.size < this.host.concurrency) continue;
      await new Promise<void>((resolve) => {
        const timer = this.host.clock.setTimer(() => resolve(), this.host.pollIntervalMs);
        this.poke = () => {
          this.host.clock.clearTimer(timer);
          this.poke = () => undefined;
          resolve();
        };
      });
    }
  }

  private launch(claimed: ClaimedRun): void {
    const controller = new AbortController();
    // Every task or step in flight listens on the run's signal; a wide DAG has many at once.
    setMaxListeners(0, controller.signal);
    const entry: ActiveRun = { run: claimed.run, lease: claimed.lease, controller, stopReason: null, done: Promise.resolve() };
    this.active.set(claimed.run.id, entry);
    entry.done = this.execute(claimed, entry)
      .catch((error: unknown) => this.host.logger.error({ err: error, runId: claimed.run.id }, 'engine could not record the outcome of a run'))
      .finally(() => {
        // This worker may have claimed the run again already (it parked the run and a wake-up made it
        // runnable before this execution wound down): that newer entry is not ours to remove.
        if (this.active.get(claimed.run.id) === entry) this.active.delete(claimed.run.id);
        this.nudge();
      });
  }

  private async execute(claimed: ClaimedRun, entry: ActiveRun): Promise<void> {
    const { host } = this;
    const { run } = claimed;
    const crashed = claimed.previousState === RunState.Running && claimed.previousOwner !== null;
    if (crashed) host.emitTransition(run, RunState.Crashed, RunState.Running);
    host.emitTransition(run, RunState.Running, crashed ? RunState.Crashed : claimed.previousState);

    const heartbeat = this.startHeartbeat(entry);
    const pendingLogs = new Set<Promise<void>>();
    const execution: RunExecution = {
      run,
      repo: reportingLeaseLoss(host.repo, (error) => this.leaseLost(entry, error)),
      lease: entry.lease,
      clock: host.clock,
      logger: host.logger,
      workerId: host.workerId,
      queues: host.queues,
      signal: entry.controller.signal,
      maxRecordBytes: host.maxRecordBytes,
      emitStep: (stepKey, kind, state, attempt) => host.emitStep(run.id, stepKey, kind, state, attempt),
      stepLogger: (stepKey) => stepLogger((level, message, data) => {
        const write = host.writeLog(run.id, stepKey, level, message, data).catch((error: unknown) => host.logger.warn({ err: error }, 'could not store a log line'));
        pendingLogs.add(write);
        void write.finally(() => pendingLogs.delete(write));
      }),
      flushLogs: async () => {
        await Promise.all([...pendingLogs]);
      },
      startChild: (name, params, key) => host.startChild(run, name, params, key),
      acquireTagSlot: (tag, limit, stepKey) => this.tagSlots.acquire(tag, limit, run.id, stepKey, entry.controller.signal),
    };

    let outcome: ExecutionOutcome;
    const definition = host.definition(run.name);
    try {
      if (definition === undefined) throw new Error(`no definition named '${run.name}' in this worker`);
      outcome = definition.kind === 'flow' ? await executeFlow(execution, definition) : await executeWorkflow(execution, definition);
    } catch (error) {
      outcome = { type: 'finished', state: RunState.Failed, result: undefined, error };
    } finally {
      clearInterval(heartbeat);
    }
    // Whatever the executor made of a refused write (a failed task, a thrown step), the run is not ours.
    if (entry.stopReason === 'lease-lost') outcome = { type: 'interrupted' };
    await execution.flushLogs();
    await this.record(run, claimed.wakeups, outcome, entry);
  }

  private async record(run: RunRecord, wakeups: number, outcome: ExecutionOutcome, entry: ActiveRun): Promise<void> {
    const { host } = this;
    const nowMs = host.clock.now();
    switch (outcome.type) {
      case 'finished': {
        let { state, error } = outcome;
        let resultJson: string | null = null;
        try {
          resultJson = encodeRecordable(outcome.result, `The result of run ${run.id}`, host.maxRecordBytes);
        } catch (encodeError) {
          if (!(encodeError instanceof StepOutputNotRecordableError)) throw encodeError;
          state = RunState.Failed;
          error = encodeError;
        }
        const recorded = error === null || error === undefined ? null : recordError(error);
        if (await host.repo.finishRun(entry.lease, { state, resultJson, error: recorded, message: recorded?.message ?? null, nowMs })) {
          const finished: RunRecord = { ...run, state, endedMs: nowMs, error: recorded, result: resultJson === null ? undefined : (JSON.parse(resultJson) as unknown) };
          host.emitTransition(finished, state, RunState.Running);
          await host.afterFinish(finished);
        }
        return;
      }
      case 'suspended':
        if (await host.repo.suspendRun(entry.lease, outcome.wakeMs, wakeups, nowMs)) {
          await host.recordTransition(run, RunState.Waiting, RunState.Running, outcome.wakeMs === null ? 'waiting for an event, signal or child' : `waiting until ${new Date(outcome.wakeMs).toISOString()}`);
          if (outcome.wakeMs !== null) this.nudgeAt(outcome.wakeMs);
          this.nudge();
        }
        return;
      case 'handoff':
        if (await host.repo.handOffRun(entry.lease, outcome.queue, nowMs)) {
          await host.recordTransition({ ...run, queue: outcome.queue }, RunState.Pending, RunState.Running, `waiting for a worker serving queue '${outcome.queue}'`);
        }
        return;
      case 'interrupted':
        // Cancelled: the store already says so. Lease lost: another worker owns it now. Otherwise
        // (shutdown, a store error mid-run): hand it back so another worker resumes it at once.
        if (entry.stopReason === 'lease-lost') await this.noteLeaseLost(run, nowMs);
        else if (entry.stopReason !== 'cancelled') await host.repo.releaseRun(entry.lease, nowMs);
        return;
    }
  }

  /** A journal write was refused: another claim holds the run. Stop everything this execution has in flight. */
  private leaseLost(entry: ActiveRun, error: LeaseLostError): void {
    if (entry.controller.signal.aborted) return;
    entry.stopReason = 'lease-lost';
    entry.controller.abort(error);
  }

  /** Says on the run's timeline that this worker stopped (informational: the run's state is the new holder's). */
  private async noteLeaseLost(run: RunRecord, nowMs: number): Promise<void> {
    const { host } = this;
    host.logger.warn({ runId: run.id, workerId: host.workerId }, 'engine worker lost the lease of a run; stopped executing it');
    try {
      await host.repo.appendEvent({
        runId: run.id,
        stepKey: null,
        type: 'log',
        level: 'warn',
        message: `worker ${host.workerId} lost its lease on this run (another claim took it over); it stopped executing it and recorded nothing more`,
        atMs: nowMs,
      });
    } catch (error) {
      host.logger.warn({ err: error, runId: run.id }, 'could not note a lost lease on the run timeline');
    }
  }

  private startHeartbeat(entry: ActiveRun): ReturnType<typeof setInterval> {
    const { host } = this;
    // Real time on purpose: the lease is a wall-clock fact shared with other processes.
    const timer = setInterval(() => {
      void (async () => {
        try {
          const nowMs = host.clock.now();
          const held = await host.repo.heartbeat(entry.lease, nowMs + host.leaseMs, nowMs);
          if (held || entry.controller.signal.aborted) return;
          const current = await host.repo.getRun(entry.run.id);
          entry.stopReason = current?.state === RunState.Cancelled ? 'cancelled' : 'lease-lost';
          entry.controller.abort(
            entry.stopReason === 'cancelled'
              ? new WorkflowCancelledError(`Run ${entry.run.id} was cancelled.`, { details: { runId: entry.run.id } })
              : new AbortedError(`Run ${entry.run.id} is no longer leased to this worker.`),
          );
        } catch (error) {
          host.logger.warn({ err: error, runId: entry.run.id }, 'engine heartbeat failed; will retry');
        }
      })();
    }, Math.max(50, Math.floor(host.leaseMs / 3)));
    timer.unref();
    return timer;
  }
}

/**
 * The repository as an executor sees it: the same store, but a journal write refused for a lost
 * lease also stops the execution at once — executors may treat a store error as a task failure or
 * hand it to workflow code, and a stale executor must not go on to its next step either way.
 */
function reportingLeaseLoss(repo: EngineRepository, onLost: (error: LeaseLostError) => void): EngineRepository {
  const report = <T>(write: Promise<T>): Promise<T> =>
    write.catch((error: unknown) => {
      if (error instanceof LeaseLostError) onLost(error);
      throw error;
    });
  return Object.assign(Object.create(repo) as EngineRepository, {
    beginStep: (step: Parameters<EngineRepository['beginStep']>[0]) => report(repo.beginStep(step)),
    finishStep: (...args: Parameters<EngineRepository['finishStep']>) => report(repo.finishStep(...args)),
    recordStep: (step: Parameters<EngineRepository['recordStep']>[0]) => report(repo.recordStep(step)),
    markStep: (...args: Parameters<EngineRepository['markStep']>) => report(repo.markStep(...args)),
  });
}

function stepLogger(write: (level: LogLevel, message: string, data: unknown) => void): StepLogger {
  return {
    debug: (message, data) => write('debug', message, data),
    info: (message, data) => write('info', message, data),
    warn: (message, data) => write('warn', message, data),
    error: (message, data) => write('error', message, data),
  };
}
