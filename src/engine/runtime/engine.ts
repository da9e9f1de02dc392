import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { systemClock, type Clock } from '../../core/clock.js';
import { TypedEmitter } from '../../core/events.js';
import { silentLogger, type Logger } from '../../core/logger.js';
import { RunState, isTerminal } from '../../core/states.js';
import {
  ConfigError,
  InvalidRunStateError,
  PayloadNotSerializableError,
  RunNotFoundError,
  StepOutputNotRecordableError,
  TimeoutError,
  UnknownHandlerError,
} from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { LaunchOptions, RunFinishedEvent, RunLauncher, RunTarget } from '../deployments/launcher.js';
import type { FlowDefinition } from '../flow/define.js';
import { parseWithSchema } from '../flow/define.js';
import { DEFAULT_MAX_RECORD_BYTES, encodeRecordable } from '../journal/recordable.js';
import { createPostgresEngineRepository, type PostgresEngineRepository } from '../store/postgres.js';
import type { FinishedNotice, PgListener } from '../store/pg-listener.js';
import type { EngineRepository } from '../store/repository.js';
import { matchesSubset } from '../store/rows.js';
import { createSqliteEngineRepository } from '../store/sqlite.js';
import type { EngineEvents, LogLevel, RunEventRecord, RunFilter, RunKind, RunRecord, StepRecord } from '../types.js';
import type { WorkflowDefinition } from '../workflow/define.js';
import { RunWorker } from './worker.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- definitions of any parameter type
export type AnyDefinition = FlowDefinition<any> | WorkflowDefinition<any, any>;

export interface EngineOptions {
  /** Where runs and journals live (SQLite or PostgreSQL). */
  store: Store;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: silent. */
  logger?: Logger;
  /** This worker's name in leases and on the timeline. Default: `host:pid:random`. */
  workerId?: string;
  /** How long a claimed run stays leased without a heartbeat; a crashed worker's runs resume after it. Default 30000. */
  leaseMs?: number;
  /** How many runs this worker executes at once. Default 10. */
  concurrency?: number;
  /** Worker queues served (flow tasks with `queue: 'gpu'` only run on a worker serving 'gpu'). Default ['default']. */
  queues?: readonly string[];
  /** How often an idle worker looks for runnable runs (PostgreSQL also wakes it by NOTIFY). Default 1000. */
  pollIntervalMs?: number;
  /** Largest recorded value (step output, run result, parameters, payload), bytes of JSON. Default 1 MiB. */
  maxRecordBytes?: number;
  /** Flows and workflows to register now (same as calling `register`). */
  definitions?: readonly AnyDefinition[];
}

export interface RunOptions {
  /** Starting twice with one key creates one run; the second call returns it with `created: false`. */
  idempotencyKey?: string;
  deploymentId?: string;
  /** Not before this instant (epoch ms). Default: now. */
  scheduledMs?: number;
  tags?: readonly string[];
}

/**
 * The durable engine for flows and workflows: a run API over the store, and — once `start()`ed — a
 * worker that executes runs. Any number of engines may share one store; each claims runs with a
 * lease. It satisfies the deployments' `RunLauncher` (`start(target, params, opts)` besides
 * `start()` for the worker).
 */
export class Engine implements RunLauncher {
  /** Run and step transitions and log lines made by this process. */
  readonly events: TypedEmitter<EngineEvents>;
  readonly repo: EngineRepository;
  readonly workerId: string;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly registry = new Map<string, AnyDefinition>();
  private readonly worker: RunWorker;
  private readonly maxRecordBytes: number;
  /** PostgreSQL only: wake-ups and other processes' run-finished notices. */
  private listener: PgListener | undefined;
  private listenerStarting: Promise<void> | undefined;
  private readonly remoteFinished = new Set<(event: RunFinishedEvent) => void>();

  constructor(options: EngineOptions) {
    if (options.store === undefined || options.store === null) throw new ConfigError('createEngine: store is required (openSqliteStore or openPostgresStore).', { details: { field: 'store' } });
    this.repo = options.store.dialect === 'sqlite' ? createSqliteEngineRepository(options.store) : createPostgresEngineRepository(options.store);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.maxRecordBytes = positive(options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES, 'maxRecordBytes');
    const queues = options.queues ?? ['default'];
    if (!Array.isArray(queues) || queues.length === 0 || queues.some((queue) => typeof queue !== 'string' || queue === ''))
      throw new ConfigError('createEngine: queues must be a non-empty list of queue names.', { details: { field: 'queues' } });
    this.events = new TypedEmitter<EngineEvents>((error, event) => this.logger.warn({ err: error, event }, 'an engine event listener threw'));
    const concurrency = positive(options.concurrency ?? 10, 'concurrency');
    if (!Number.isInteger(concurrency)) throw new ConfigError('createEngine: concurrency must be a whole number.', { details: { field: 'concurrency' } });
    this.worker = new RunWorker({
      repo: this.repo,
      clock: this.clock,
      logger: this.logger,
      workerId: this.workerId,
      queues: new Set(queues),
      leaseMs: positive(options.leaseMs ?? 30_000, 'leaseMs'),
      concurrency,
      pollIntervalMs: positive(options.pollIntervalMs ?? 1_000, 'pollIntervalMs'),
      maxRecordBytes: this.maxRecordBytes,
      definition: (name) => this.registry.get(name),
      definitionNames: () => [...this.registry.keys()],
      recordTransition: (run, state, previous, message) => this.recordTransition(run, state, previous, message),
      emitTransition: (run, state, previous) => this.emitTransition(run, state, previous),
      emitStep: (runId, stepKey, kind, state, attempt) => this.events.emit('step_state', { runId, stepKey, kind, state, attempt, atMs: this.clock.now() }),
      writeLog: (runId, stepKey, level, message, data) => this.writeLog(runId, stepKey, level, message, data),
      startChild: async (parent, name, params, idempotencyKey) => (await this.createRun(name, params, { idempotencyKey, tags: [] }, parent.id)).runId,
      afterFinish: (run) => this.afterFinish(run),
    });
    this.register(...(options.definitions ?? []));
  }

  /** Registers flows and workflows by name (names are shared by both kinds and must be unique). */
  register(...definitions: AnyDefinition[]): this {
    for (const definition of definitions) {
      if (definition === null || typeof definition !== 'object' || (definition.kind !== 'flow' && definition.kind !== 'workflow'))
        throw new ConfigError('register: expected a flow(...) or workflow(...) definition.', { details: { field: 'definitions' } });
      const existing = this.registry.get(definition.name);
      if (existing !== undefined && existing !== definition)
        throw new ConfigError(`register: a ${existing.kind} named '${definition.name}' is already registered; names must be unique.`, { details: { name: definition.name } });
    }
    for (const definition of definitions) this.registry.set(definition.name, definition);
    return this;
  }

  /** The registered definitions (for the CLI, the UI's graph view and the deployments). */
  definitions(): AnyDefinition[] {
    return [...this.registry.values()];
  }

  /** Starts the worker loop (`start()`), or — the RunLauncher form — starts a run of `target`. */
  start(): Promise<void>;
  start(target: RunTarget, params: unknown, opts: LaunchOptions): Promise<{ runId: string; created: boolean }>;
  async start(target?: RunTarget, params?: unknown, opts?: LaunchOptions): Promise<void | { runId: string; created: boolean }> {
    if (target === undefined) {
      await this.listen();
      return this.worker.start();
    }
    const definition = this.registry.get(target.name);
    if (definition !== undefined && definition.kind !== target.kind)
      throw new ConfigError(`'${target.name}' is a ${definition.kind}, not a ${target.kind}.`, { details: { name: target.name, kind: target.kind } });
    return this.run(target.name, params, { idempotencyKey: opts?.idempotencyKey, deploymentId: opts?.deploymentId, scheduledMs: opts?.scheduledMs });
  }

  /** Stops claiming, lets executing runs finish until `deadlineMs` (default 10000), then releases the rest. */
  async stop(options: { deadlineMs?: number } = {}): Promise<void> {
    await this.worker.stop(options.deadlineMs ?? 10_000);
    await this.closeListener();
  }

  /**
   * The LISTEN connection's status on PostgreSQL (undefined on SQLite or before `start()` /
   * `onRunFinished`): connects so far, wake-up notices received, and the server pid.
   */
  get notifications(): Pick<PgListener, 'connects' | 'wakeNotices' | 'backendPid' | 'connected'> | undefined {
    return this.listener;
  }

  /** Starts the LISTEN connection once (PostgreSQL): worker wake-ups and remote run-finished notices. */
  private listen(): Promise<void> {
    if (this.repo.dialect !== 'postgres') return Promise.resolve();
    this.listenerStarting ??= (this.repo as PostgresEngineRepository)
      .listen({ onWake: () => this.worker.nudge(), onRunFinished: (notice) => this.remoteRunFinished(notice) }, this.logger)
      .then(
        (listener) => {
          this.listener = listener;
        },
        (error: unknown) => {
          this.listenerStarting = undefined;
          throw error;
        },
      );
    return this.listenerStarting;
  }

  private async closeListener(): Promise<void> {
    const starting = this.listenerStarting;
    this.listenerStarting = undefined;
    if (starting !== undefined) await starting.catch(() => undefined);
    const listener = this.listener;
    this.listener = undefined;
    if (listener !== undefined) await listener.close();
  }

  private remoteRunFinished(notice: FinishedNotice): void {
    // This process already reported its own transitions through `events`.
    if (notice.origin === this.workerId) return;
    for (const listener of this.remoteFinished) {
      try {
        listener({ runId: notice.runId, deploymentId: notice.deploymentId, state: notice.state });
      } catch (error) {
        this.logger.warn({ err: error }, 'an onRunFinished listener threw');
      }
    }
  }

  /** Creates a run (Pending). Parameters are validated now; a bad one throws InvalidParametersError. */
  async run(name: string, params?: unknown, options: RunOptions = {}): Promise<{ runId: string; created: boolean }> {
    return this.createRun(name, params, options, null);
  }

  async getRun(runId: string): Promise<RunRecord> {
    const run = await this.repo.getRun(runId);
    if (run === undefined) throw new RunNotFoundError(`No run with id '${runId}'.`, { details: { runId } });
    return run;
  }

  listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    return this.repo.listRuns(filter);
  }

  /** The run's journal, in the order steps were first recorded. */
  async listSteps(runId: string): Promise<StepRecord[]> {
    await this.getRun(runId);
    return this.repo.listSteps(runId);
  }

  /** The run's timeline: state transitions, logs (per step), delivered events and signals. */
  listEvents(runId: string, options: { type?: RunEventRecord['type']; stepKey?: string } = {}): Promise<RunEventRecord[]> {
    return this.repo.listEvents(runId, options);
  }

  /** Cancels the run and its child runs. A run executing anywhere sees its AbortSignal fire. */
  async cancel(runId: string): Promise<void> {
    const run = await this.getRun(runId);
    if (isTerminal(run.state)) return;
    const cancelled = await this.repo.cancelRun(runId, this.clock.now(), this.workerId);
    for (const id of cancelled) {
      this.worker.cancelLocal(id);
      const record = id === runId ? run : await this.repo.getRun(id);
      if (record !== undefined) {
        await this.recordTransition({ ...record, state: RunState.Cancelled }, RunState.Cancelled, record.state, 'cancelled');
      }
    }
    if (run.parentRunId !== null && cancelled.includes(runId)) await this.repo.wake(run.parentRunId, this.clock.now());
  }

  /**
   * Runs a failed (timed-out, cancelled, crashed) run again, keeping its Completed steps: they are
   * replayed, everything else runs again (Airflow's "clear failed", Prefect's retry from failure).
   */
  async retry(runId: string): Promise<void> {
    const run = await this.getRun(runId);
    if (!(await this.repo.resetForRetry(runId, this.clock.now())))
      throw new InvalidRunStateError(`Run ${runId} is ${run.state}; only Failed, TimedOut, Cancelled or Crashed runs can be retried.`, { details: { runId, state: run.state } });
    await this.recordTransition({ ...run, state: RunState.Pending }, RunState.Pending, run.state, `retry (attempt ${run.attempt + 1})`);
    this.worker.nudge();
  }

  /** Resolves with the run once it is terminal. Default timeout: none. */
  async waitForRun(runId: string, options: { timeoutMs?: number; pollMs?: number } = {}): Promise<RunRecord> {
    const deadline = options.timeoutMs === undefined ? Infinity : this.clock.now() + options.timeoutMs;
    const pollMs = options.pollMs ?? 100;
    const remoteFinished = this.remoteFinished;
    for (;;) {
      const run = await this.getRun(runId);
      if (isTerminal(run.state)) return run;
      if (this.clock.now() >= deadline) throw new TimeoutError(`Run ${runId} did not finish within ${options.timeoutMs} ms (it is ${run.state}).`, { details: { runId, state: run.state } });
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.min(pollMs, Math.max(0, deadline - this.clock.now())));
        const off = this.events.on('run_state', (event) => {
          if (event.runId === runId && isTerminal(event.state)) done();
        });
        const remote = (event: RunFinishedEvent): void => {
          if (event.runId === runId) done();
        };
        remoteFinished.add(remote);
        function done(): void {
          clearTimeout(timer);
          off();
          remoteFinished.delete(remote);
          resolve();
        }
      });
    }
  }

  /**
   * Delivers an event to every workflow run subscribed to `name` (see docs/engine.md: a run is
   * subscribed from its first `waitForEvent(name)` until it ends; events are buffered per run).
   * Returns how many runs it matched: subscribed runs whose object-subset `match`, if any, accepts it.
   */
  async deliverEvent(name: string, payload?: unknown): Promise<number> {
    const payloadJson = this.encodePayload(payload, `event '${name}'`);
    const nowMs = this.clock.now();
    const subscriptions = await this.repo.deliverEvent(name, payloadJson, nowMs);
    let matched = 0;
    for (const subscription of subscriptions) {
      if (subscription.matchJson === null || matchesSubset(payload, JSON.parse(subscription.matchJson))) matched += 1;
      await this.repo.appendEvent({ runId: subscription.runId, stepKey: null, type: 'event', message: name, dataJson: payloadJson, atMs: nowMs });
    }
    this.worker.nudge();
    return matched;
  }

  /** Sends a signal to one run; it is buffered until the run's `waitForSignal(name)` takes it. */
  async signal(runId: string, name: string, payload?: unknown): Promise<void> {
    const payloadJson = this.encodePayload(payload, `signal '${name}'`);
    const nowMs = this.clock.now();
    if (!(await this.repo.deliverSignal(runId, name, payloadJson, nowMs))) {
      const run = await this.getRun(runId);
      throw new InvalidRunStateError(`Run ${runId} is ${run.state}; signals go to runs that have not finished.`, { details: { runId, state: run.state } });
    }
    await this.repo.appendEvent({ runId, stepKey: null, type: 'signal', message: name, dataJson: payloadJson, atMs: nowMs });
    this.worker.nudge();
  }

  activeRuns(deploymentId: string): Promise<string[]> {
    return this.repo.activeRunIds(deploymentId);
  }

  /**
   * Calls `listener` when a run reaches a terminal state: at once for runs this process finished or
   * cancelled; on PostgreSQL also for runs finished or cancelled by other processes (a NOTIFY sent
   * with the commit), as soon as the notice arrives. Other processes' notices sent while the LISTEN
   * connection was down are not replayed; the deployments leader's poll covers those.
   */
  onRunFinished(listener: (event: RunFinishedEvent) => void): () => void {
    const off = this.events.on('run_state', (event) => {
      if (isTerminal(event.state)) listener({ runId: event.runId, deploymentId: event.deploymentId, state: event.state });
    });
    this.remoteFinished.add(listener);
    this.listen().catch((error: unknown) => this.logger.warn({ err: error }, 'could not LISTEN for run-finished notices; other processes\' runs are seen at the next poll'));
    return () => {
      off();
      this.remoteFinished.delete(listener);
    };
  }

  private async createRun(name: string, params: unknown, options: RunOptions, parentRunId: string | null): Promise<{ runId: string; created: boolean }> {
    const definition = this.registry.get(name);
    if (definition === undefined) {
      throw new UnknownHandlerError(`No flow or workflow named '${name}' is registered with this engine (registered: ${[...this.registry.keys()].join(', ') || 'none'}).`, {
        details: { name },
      });
    }
    const parsed: unknown = definition.kind === 'flow' ? definition.parseParams(params) : definition.inputSchema === undefined ? params : parseWithSchema(definition.inputSchema, params, `workflow '${name}'`);
    const tags = options.tags ?? [];
    if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) throw new ConfigError('run: tags must be a list of strings.', { details: { field: 'tags' } });
    if (options.idempotencyKey !== undefined && (typeof options.idempotencyKey !== 'string' || options.idempotencyKey === ''))
      throw new ConfigError('run: idempotencyKey must be a non-empty string.', { details: { field: 'idempotencyKey' } });
    const nowMs = this.clock.now();
    const scheduledMs = options.scheduledMs ?? nowMs;
    if (!Number.isFinite(scheduledMs)) throw new ConfigError('run: scheduledMs must be epoch milliseconds.', { details: { field: 'scheduledMs' } });
    const paramsJson = this.encodePayload(parsed, `the parameters of '${name}'`);
    const kind: RunKind = definition.kind;
    const created = await this.repo.insertRun({
      id: randomUUID(),
      kind,
      name,
      paramsJson,
      parentRunId,
      deploymentId: options.deploymentId ?? null,
      idempotencyKey: options.idempotencyKey ?? null,
      tags,
      scheduledMs,
      nowMs,
    });
    if (created.created) {
      this.events.emit('run_state', { runId: created.runId, name, kind, state: RunState.Pending, previous: null, deploymentId: options.deploymentId ?? null, atMs: nowMs });
      if (scheduledMs > nowMs) this.worker.nudgeAt(scheduledMs);
      else this.worker.nudge();
    }
    return created;
  }

  private encodePayload(value: unknown, what: string): string | null {
    try {
      return encodeRecordable(value, what, this.maxRecordBytes);
    } catch (error) {
      if (error instanceof StepOutputNotRecordableError) throw new PayloadNotSerializableError(error.message, { cause: error, details: error.details });
      throw error;
    }
  }

  private async recordTransition(run: RunRecord, state: RunState, previous: RunState | null, message?: string): Promise<void> {
    const atMs = this.clock.now();
    await this.repo.appendEvent({ runId: run.id, stepKey: null, type: 'state', state, message: message ?? null, atMs });
    this.emitTransition(run, state, previous);
  }

  private emitTransition(run: RunRecord, state: RunState, previous: RunState | null): void {
    this.logger.debug({ runId: run.id, name: run.name, state, previous }, 'run state');
    this.events.emit('run_state', { runId: run.id, name: run.name, kind: run.kind, state, previous, deploymentId: run.deploymentId, atMs: this.clock.now() });
  }

  private async writeLog(runId: string, stepKey: string | null, level: LogLevel, message: string, data: unknown): Promise<void> {
    const atMs = this.clock.now();
    let dataJson: string | null = null;
    try {
      dataJson = encodeRecordable(data, 'log data', this.maxRecordBytes);
    } catch {
      dataJson = JSON.stringify({ unrecordable: true });
    }
    this.events.emit('log', { runId, stepKey, level, message, data, atMs });
    await this.repo.appendEvent({ runId, stepKey, type: 'log', level, message: String(message), dataJson, atMs });
  }

  private async afterFinish(run: RunRecord): Promise<void> {
    // A parent waiting on this child's result wakes now rather than at its next poll.
    if (run.parentRunId !== null) await this.repo.wake(run.parentRunId, this.clock.now());
    this.worker.nudge();
  }
}

/** Creates an engine. Call `start()` to make this process a worker too. */
export function createEngine(options: EngineOptions): Engine {
  return new Engine(options);
}

function positive(value: number, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw new ConfigError(`createEngine: ${field} must be a positive number, got ${String(value)}.`, { details: { field } });
  return value;
}
