import type { Duration } from '../core/duration.js';
import { TypedEmitter } from '../core/events.js';
import type { Trigger } from '../core/triggers/trigger.js';
import { ConfigError, InvalidTriggerError, SchedulerStoppedError, toError } from '../errors.js';
import { FireLoop } from './fire-loop.js';
import { JobHandle, type JobOperations, type RunOutcome } from './job-handle.js';
import { LocalJob } from './job.js';
import { LoopProbe } from './loop-probe.js';
import { applyJobChanges, defaultJobSettings, resolveSchedulerOptions, type ResolvedSchedulerOptions } from './options.js';
import { PersistentJobs } from './persistence.js';
import { checkTrigger, JobRegistry } from './registry.js';
import type { StoredLocalJob } from './repository.js';
import { restoreJob } from './restore.js';
import { JobRunner } from './runner.js';
import { translateSeedOptions, type ScheduleInternalTaskOptions } from './seed-api.js';
import { buildAt, buildCron, buildEvery, type CronOptions, type EveryOptions, type Instant } from './trigger-builders.js';
import type {
  AddJobOptions,
  JobChanges,
  JobFn,
  JobOptions,
  JobStatus,
  LocalSchedulerEvents,
  LocalSchedulerOptions,
  StopReport,
} from './types.js';

/** How long `stop()` waits for running jobs by default before aborting them. */
export const DEFAULT_STOP_DEADLINE_MS = 10_000;

type Lifecycle = 'stopped' | 'starting' | 'running' | 'stopping';

/**
 * The in-process lane: APScheduler's semantics (misfire grace, coalesce, max instances, jitter) on one
 * timer. This class is the public face — lifecycle, adding and managing jobs — over four parts with
 * one job each: the registry (`registry.ts`: jobs by id, validation of new ones), the timer loop
 * (`fire-loop.ts`: the heap and the one timer), the runner (`runner.ts`: calling jobs and watching
 * runs) and the persistence glue (`persistence.ts`, `restore.ts`).
 *
 * Lifecycle: `stopped` → `start()` → `running` (⇄ `pause()`/`resume()`) → `stop()` → `stopping` → `stopped`.
 * Jobs can be added in any state; they fire only while the scheduler runs and is not paused.
 */
export class LocalScheduler implements JobOperations {
  /** Every event the scheduler emits; a throwing listener is logged and cannot break the scheduler. */
  readonly events: TypedEmitter<LocalSchedulerEvents>;
  private readonly options: ResolvedSchedulerOptions;
  private readonly registry: JobRegistry;
  private readonly loop: FireLoop;
  private readonly runner: JobRunner;
  private readonly persistence: PersistentJobs | null;
  private readonly probe: LoopProbe | null;
  private lifecycle: Lifecycle = 'stopped';
  private isPaused = false;
  private stopping: Promise<StopReport> | null = null;

  constructor(options: LocalSchedulerOptions = {}) {
    this.options = resolveSchedulerOptions(options);
    this.registry = new JobRegistry(this.options, defaultJobSettings(this.options));
    const logger = this.options.logger;
    this.events = new TypedEmitter<LocalSchedulerEvents>((error, event) =>
      logger.error({ err: toError(error), event: String(event) }, 'local scheduler event listener threw'),
    );
    this.persistence =
      this.options.store === null
        ? null
        : new PersistentJobs(this.options.store, logger, (operation, jobId, error) =>
            this.events.emit('store_error', { operation, jobId, error }),
          );
    this.runner = new JobRunner({
      clock: this.options.clock,
      logger,
      events: this.events,
      eventLoopBlockMs: this.options.eventLoopBlockMs,
      persist: (job) => this.persist(job),
      inPass: () => this.loop.inPass,
    });
    this.loop = new FireLoop({
      clock: this.options.clock,
      logger,
      events: this.events,
      runner: this.runner,
      random: this.options.random,
      exactTimers: this.options.exactTimers,
      firing: () => this.lifecycle === 'running' && !this.isPaused,
      afterDue: (job, nowMs) => this.afterDue(job, nowMs),
    });
    const blockMs = this.options.eventLoopBlockMs;
    this.probe = blockMs === null ? null : new LoopProbe(blockMs, (lagMs) => this.runner.onProbeTick(lagMs, blockMs));
  }

  /** `stopped`, `starting`, `running` or `stopping`. */
  get state(): Lifecycle {
    return this.lifecycle;
  }

  /** Whether the whole scheduler is paused (`pause()`); jobs keep their schedules but nothing fires. */
  get paused(): boolean {
    return this.isPaused;
  }

  get jobCount(): number {
    return this.registry.size;
  }

  // ── lifecycle ────────────────────────────────────────────────────────────────────────────────

  /**
   * Starts firing. With a store, first loads the persistent jobs' rows: a job registered before
   * `start()` resumes from its stored next fire, and fires missed while the process was down get
   * the misfire policy. Idempotent while running.
   */
  async start(): Promise<void> {
    if (this.lifecycle === 'running' || this.lifecycle === 'starting') return;
    if (this.lifecycle === 'stopping') {
      throw new SchedulerStoppedError('start(): the scheduler is still stopping; await stop() first.');
    }
    this.lifecycle = 'starting';
    try {
      if (this.persistence !== null && !this.persistence.loaded) await this.persistence.load();
    } catch (error) {
      this.lifecycle = 'stopped';
      throw error;
    }
    // stop() was called while the store was loading: it wins.
    if (this.lifecycle !== 'starting') return;
    const nowMs = this.options.clock.now();
    for (const job of this.registry.values()) {
      if (job.awaitingRestore) this.restore(job, this.persistence?.take(job.id), nowMs);
      else if (job.awaitingStart && job.fireMs !== null && job.dueMs < nowMs) this.scheduleFrom(job, nowMs);
      job.awaitingStart = false;
    }
    for (const id of this.persistence?.unclaimed() ?? []) {
      this.options.logger.warn({ jobId: id }, 'stored local job has no function registered; it resumes when the code adds it again');
    }
    this.lifecycle = 'running';
    this.probe?.start();
    this.loop.arm();
    this.options.logger.info({ jobs: this.registry.size }, 'local scheduler started');
    this.events.emit('scheduler_started', { atMs: nowMs, jobCount: this.registry.size });
  }

  /**
   * Stops firing, then waits up to `deadlineMs` (a duration, default 10000) for running jobs; runs
   * still going at the deadline have their signal aborted, are marked Cancelled and reported — their
   * promises are not awaited further. Pending store writes are flushed. Jobs stay registered: a
   * later `start()` resumes them (fires missed meanwhile get the misfire policy).
   */
  stop(options: { deadlineMs?: number } = {}): Promise<StopReport> {
    if (this.stopping !== null) return this.stopping;
    if (this.lifecycle === 'stopped') return Promise.resolve({ finishedRuns: 0, abortedRuns: [] });
    this.stopping = this.doStop(options.deadlineMs ?? DEFAULT_STOP_DEADLINE_MS).finally(() => {
      this.stopping = null;
    });
    return this.stopping;
  }

  private async doStop(deadlineMs: number): Promise<StopReport> {
    this.lifecycle = 'stopping';
    this.loop.disarm();
    this.probe?.stop();
    const runningAtStop = this.runner.activeRuns.size;
    await this.runner.waitForRuns(deadlineMs);
    const nowMs = this.options.clock.now();
    const abortedRuns = this.runner.abortAll(deadlineMs);
    await this.persistence?.flush();
    this.lifecycle = 'stopped';
    const report: StopReport = { finishedRuns: runningAtStop - abortedRuns.length, abortedRuns };
    this.options.logger.info({ finishedRuns: report.finishedRuns, abortedRuns: abortedRuns.length }, 'local scheduler stopped');
    this.events.emit('scheduler_stopped', { atMs: nowMs, report });
    return report;
  }

  /** Stops firing without forgetting anything; `resume()` fires what came due (misfire policy applies). */
  pause(): void {
    if (this.isPaused) return;
    this.isPaused = true;
    this.loop.disarm();
    this.events.emit('scheduler_paused', { atMs: this.options.clock.now() });
  }

  resume(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    this.events.emit('scheduler_resumed', { atMs: this.options.clock.now() });
    this.loop.arm();
  }

  // ── adding jobs ──────────────────────────────────────────────────────────────────────────────

  /**
   * Registers `fn` on `options.trigger`. Every option is validated first: on bad input a typed error
   * names the field and nothing is registered.
   *
   * @throws DuplicateJobError when the id exists and `replaceExisting` is not set.
   * @throws ConfigError / InvalidDurationError for bad options; InvalidTriggerError when the trigger never fires.
   */
  addJob(fn: JobFn, options: AddJobOptions): JobHandle {
    if (typeof options !== 'object' || options === null) {
      throw new ConfigError('addJob: options with a trigger are required.', { details: { field: 'options' } });
    }
    const { trigger, ...jobOptions } = options;
    checkTrigger(trigger);
    return this.register(fn, trigger, jobOptions);
  }

  /** Runs `fn` every `interval` (`'30s'`, `'5m'`, or ms), anchored: fires stay on `startMs + k·interval`. */
  every(interval: Duration, fn: JobFn, options: EveryOptions = {}): JobHandle {
    const built = buildEvery(interval, options, this.options.clock.now());
    return this.register(fn, built.trigger, built.options);
  }

  /** Runs `fn` on a crontab expression (5 or 6 fields, macros, L/W/#), read in `options.timezone` (UTC). */
  cron(expression: string, fn: JobFn, options: CronOptions = {}): JobHandle {
    const built = buildCron(expression, options);
    return this.register(fn, built.trigger, built.options);
  }

  /** Runs `fn` once at `when`. */
  at(when: Instant, fn: JobFn, options: JobOptions = {}): JobHandle {
    const built = buildAt(when, options);
    return this.register(fn, built.trigger, built.options);
  }

  /**
   * The seed's API (APScheduler 3.x keywords): `scheduleInternalTask(fn, { trigger_type: 'interval',
   * seconds: 30, id: 'health-check' })`. See `ScheduleInternalTaskOptions`.
   */
  scheduleInternalTask(fn: JobFn, options: ScheduleInternalTaskOptions): JobHandle {
    const translated = translateSeedOptions(options, this.options.clock.now());
    return this.register(fn, translated.trigger, translated.options);
  }

  private register(fn: JobFn, trigger: Trigger, options: JobOptions): JobHandle {
    const nowMs = this.options.clock.now();
    const prepared = this.registry.prepare(fn, trigger, options, nowMs, this.persistence !== null);
    const restoring = prepared.persistent && (this.lifecycle !== 'running' || this.persistence?.loaded !== true);

    // Everything is valid: from here on the job is registered.
    if (prepared.replaces !== undefined) this.dropJob(prepared.replaces, 'replaced');
    const job = new LocalJob(prepared.id, prepared.name, fn, trigger, prepared.settings, prepared.persistent);
    job.paused = prepared.paused;
    this.registry.add(job);
    if (restoring) {
      // Its stored row is read at start(); until then it waits on its registered schedule.
      job.awaitingRestore = true;
      this.loop.setFire(job, prepared.firstFireMs);
    } else {
      job.awaitingStart = this.lifecycle !== 'running';
      if (prepared.persistent) this.restore(job, this.persistence?.take(job.id), nowMs, prepared.firstFireMs);
      else this.loop.setFire(job, prepared.firstFireMs);
    }
    this.events.emit('job_added', { jobId: job.id, name: job.name, trigger: trigger.describe(), nextRunMs: job.scheduled ? job.dueMs : null });
    this.loop.arm();
    return new JobHandle(job.id, this);
  }

  private restore(job: LocalJob, row: StoredLocalJob | undefined, nowMs: number, firstFireMs?: number | null): void {
    restoreJob(job, row, nowMs, firstFireMs, {
      logger: this.options.logger,
      setFire: (target, fireMs) => this.loop.setFire(target, fireMs),
      finish: (target) => this.dropJob(target, 'finished'),
      save: (target, atMs) => this.persistence?.save(target, atMs),
    });
  }

  // ── inspecting and changing jobs ─────────────────────────────────────────────────────────────

  getJob(id: string): JobStatus | undefined {
    return this.registry.get(id)?.snapshot();
  }

  /** Every job, soonest next fire first; paused and finished jobs last. */
  listJobs(): JobStatus[] {
    return [...this.registry.values()]
      .map((job) => job.snapshot())
      .sort((a, b) => (a.nextRunMs ?? Number.POSITIVE_INFINITY) - (b.nextRunMs ?? Number.POSITIVE_INFINITY) || a.id.localeCompare(b.id));
  }

  pauseJob(id: string): JobStatus {
    const job = this.registry.mustGet(id);
    if (!job.paused) {
      job.paused = true;
      this.loop.unschedule(job);
      this.persist(job);
      this.events.emit('job_paused', { jobId: id, name: job.name });
      this.loop.arm();
    }
    return job.snapshot();
  }

  /** Resumes a paused job from now (APScheduler: the next fire after now; the pause's fires are not caught up). */
  resumeJob(id: string): JobStatus {
    const job = this.registry.mustGet(id);
    if (job.paused) {
      job.paused = false;
      const nowMs = this.options.clock.now();
      if (!this.scheduleFrom(job, nowMs)) return job.snapshot();
      this.persist(job);
      this.events.emit('job_resumed', { jobId: id, name: job.name, nextRunMs: job.scheduled ? job.dueMs : null });
      this.loop.arm();
    }
    return job.snapshot();
  }

  /** Changes settings, name or function; validated first, applied all at once. Running runs keep the old function. */
  modifyJob(id: string, changes: JobChanges): JobStatus {
    const job = this.registry.mustGet(id);
    if (typeof changes !== 'object' || changes === null) {
      throw new ConfigError('modifyJob: changes must be an object.', { details: { field: 'changes' } });
    }
    const settings = applyJobChanges(job.settings, changes);
    const jitterChanged = settings.jitterMs !== job.settings.jitterMs;
    job.settings = settings;
    if (changes.fn !== undefined) job.fn = changes.fn;
    if (changes.name !== undefined) job.name = changes.name;
    if (jitterChanged && job.fireMs !== null) this.loop.setFire(job, job.fireMs);
    this.persist(job);
    this.events.emit('job_modified', { jobId: id, name: job.name, changes: Object.keys(changes), nextRunMs: job.scheduled ? job.dueMs : null });
    this.loop.arm();
    return job.snapshot();
  }

  /** Puts the job on a new trigger; its next fire is computed from now. */
  rescheduleJob(id: string, trigger: Trigger): JobStatus {
    const job = this.registry.mustGet(id);
    checkTrigger(trigger);
    const nowMs = this.options.clock.now();
    const firstFireMs = trigger.next(nowMs - 1);
    if (firstFireMs === null) {
      throw new InvalidTriggerError(`rescheduleJob('${id}'): the new trigger (${trigger.describe()}) never fires after now; the job was left as it was.`, {
        details: { field: 'trigger', jobId: id },
      });
    }
    job.trigger = trigger;
    this.loop.setFire(job, firstFireMs);
    this.persist(job);
    this.events.emit('job_modified', { jobId: id, name: job.name, changes: ['trigger'], nextRunMs: job.scheduled ? job.dueMs : null });
    this.loop.arm();
    return job.snapshot();
  }

  /** Unschedules the job (and deletes its stored row). A run in progress is not interrupted. */
  removeJob(id: string): void {
    const job = this.registry.mustGet(id);
    this.dropJob(job, 'removed');
    if (job.persistent) this.persistence?.remove(id);
    this.loop.arm();
  }

  /**
   * Runs the job once, now, outside its schedule (the UI's "trigger now"); its next scheduled fire
   * does not move. `maxInstances` applies: at the limit the outcome is `Skipped`.
   */
  runJobNow(id: string): Promise<RunOutcome> {
    const job = this.registry.mustGet(id);
    if (this.lifecycle !== 'running') {
      return Promise.reject(new SchedulerStoppedError(`runJobNow('${id}'): the scheduler is ${this.lifecycle}; start() it first.`));
    }
    return new Promise<RunOutcome>((resolve) => {
      const nowMs = this.options.clock.now();
      const run = this.runner.submit(job, nowMs, nowMs, resolve);
      if (run === null) resolve({ jobId: id, state: 'Skipped', result: null, error: null, durationMs: 0 });
    });
  }

  private dropJob(job: LocalJob, reason: 'removed' | 'replaced' | 'finished'): void {
    if (!this.registry.delete(job)) return;
    this.loop.unschedule(job);
    this.events.emit('job_removed', { jobId: job.id, name: job.name, reason });
  }

  private persist(job: LocalJob): void {
    if (job.persistent && !job.awaitingRestore && this.registry.holds(job)) {
      this.persistence?.save(job, this.options.clock.now());
    }
  }

  /** Schedules the job's first fire at or after now; a trigger with no more fires finishes the job. */
  private scheduleFrom(job: LocalJob, nowMs: number): boolean {
    const fireMs = job.trigger.next(nowMs - 1);
    if (fireMs === null) {
      this.loop.setFire(job, null);
      this.dropJob(job, 'finished');
      this.persist(job);
      return false;
    }
    this.loop.setFire(job, fireMs);
    return true;
  }

  /** After a fire pass handled the job: a finished trigger unregisters it (its row is kept, next fire empty). */
  private afterDue(job: LocalJob, nowMs: number): void {
    if (job.fireMs === null && this.registry.holds(job)) {
      this.dropJob(job, 'finished');
      if (job.persistent) this.persistence?.save(job, nowMs);
    } else {
      this.persist(job);
    }
  }
}

/** Creates a local-lane scheduler. It fires nothing until `start()`. */
export function createLocalScheduler(options: LocalSchedulerOptions = {}): LocalScheduler {
  return new LocalScheduler(options);
}
