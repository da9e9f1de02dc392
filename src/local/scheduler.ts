import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { TimerHandle } from '../core/clock.js';
import type { Duration } from '../core/duration.js';
import { TypedEmitter } from '../core/events.js';
import { RunState } from '../core/states.js';
import { applyJitter, triggerFromSpec } from '../core/triggers/index.js';
import type { Trigger } from '../core/triggers/trigger.js';
import {
  ConfigError,
  DuplicateJobError,
  InvalidTriggerError,
  JobNotFoundError,
  SchedulerStoppedError,
  toError,
} from '../errors.js';
import { planDueFires, type MissedBatch } from './backlog.js';
import { DueHeap } from './heap.js';
import { JobHandle, type JobOperations, type RunOutcome } from './job-handle.js';
import { LocalJob } from './job.js';
import { LoopProbe } from './loop-probe.js';
import {
  applyJobChanges,
  checkFn,
  defaultJobSettings,
  checkJobFlags,
  checkName,
  JOB_OPTION_KEYS,
  rejectUnknownKeys,
  resolveJobSettings,
  resolveSchedulerOptions,
  type ResolvedJobSettings,
  type ResolvedSchedulerOptions,
} from './options.js';
import { PersistentJobs, sameSchedule } from './persistence.js';
import { JobRunner } from './runner.js';
import type { StoredLocalJob } from './repository.js';
import { translateSeedOptions, type ScheduleInternalTaskOptions } from './seed-api.js';
import { buildAt, buildCron, buildEvery, type CronOptions, type EveryOptions, type Instant } from './trigger-builders.js';
import {
  type AddJobOptions,
  type JobChanges,
  type JobFn,
  type JobOptions,
  type JobStatus,
  type LocalSchedulerEvents,
  type LocalSchedulerOptions,
  type StopReport,
} from './types.js';

/** setTimeout cannot wait longer than 2^31 − 1 ms; a farther fire re-arms on the way. */
const MAX_TIMER_MS = 2_147_483_647;
/** How long `stop()` waits for running jobs by default before aborting them. */
export const DEFAULT_STOP_DEADLINE_MS = 10_000;

type Lifecycle = 'stopped' | 'starting' | 'running' | 'stopping';


/**
 * The in-process lane: APScheduler's semantics (misfire grace, coalesce, max instances, jitter) on one
 * timer.
 *
 * Jobs wait in a min-heap ordered by their next due time; a single timer is armed for the earliest.
 * When it fires, every job due by then is taken off the heap in one pass: its next fire is computed
 * from the trigger (never from "now", so intervals stay on their anchor), it goes back on the heap,
 * and the due fire is run, missed or skipped. Runs are not awaited by the pass: an async job runs on
 * while the next fires are dispatched.
 *
 * Lifecycle: `stopped` → `start()` → `running` (⇄ `pause()`/`resume()`) → `stop()` → `stopping` → `stopped`.
 * Jobs can be added in any state; they fire only while the scheduler runs and is not paused.
 */
export class LocalScheduler implements JobOperations {
  /** Every event the scheduler emits; a throwing listener is logged and cannot break the scheduler. */
  readonly events: TypedEmitter<LocalSchedulerEvents>;
  private readonly options: ResolvedSchedulerOptions;
  private readonly defaultSettings: ResolvedJobSettings;
  private readonly jobs = new Map<string, LocalJob>();
  private readonly heap = new DueHeap<LocalJob>();
  private readonly persistence: PersistentJobs | null;
  private readonly probe: LoopProbe | null;
  private lifecycle: Lifecycle = 'stopped';
  private isPaused = false;
  private timer: TimerHandle | null = null;
  private timerWakeMs = 0;
  private inPass = false;
  private readonly runner: JobRunner;
  private stopping: Promise<StopReport> | null = null;
  /**
   * Generated ids are a per-scheduler random prefix plus a counter: unique within the scheduler and
   * short. (A randomUUID() string costs ~450 bytes of heap per job in Node 20 — with 100,000 jobs that
   * alone would be 45 MB.) Persistent jobs always carry their own id.
   */
  private readonly idPrefix = randomBytes(4).toString('hex');
  private idSeq = 0;
  private readonly onTimerBound = (): void => this.onTimer();

  constructor(options: LocalSchedulerOptions = {}) {
    this.options = resolveSchedulerOptions(options);
    this.defaultSettings = defaultJobSettings(this.options);
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
      inPass: () => this.inPass,
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
    return this.jobs.size;
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
    for (const job of this.jobs.values()) {
      if (job.awaitingRestore) this.restore(job, this.persistence?.take(job.id), nowMs);
      else if (job.awaitingStart && job.fireMs !== null && job.dueMs < nowMs) this.scheduleFrom(job, nowMs);
      job.awaitingStart = false;
    }
    for (const id of this.persistence?.unclaimed() ?? []) {
      this.options.logger.warn({ jobId: id }, 'stored local job has no function registered; it resumes when the code adds it again');
    }
    this.lifecycle = 'running';
    this.probe?.start();
    this.arm();
    this.options.logger.info({ jobs: this.jobs.size }, 'local scheduler started');
    this.events.emit('scheduler_started', { atMs: nowMs, jobCount: this.jobs.size });
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
    this.disarm();
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
    this.disarm();
    this.events.emit('scheduler_paused', { atMs: this.options.clock.now() });
  }

  resume(): void {
    if (!this.isPaused) return;
    this.isPaused = false;
    this.events.emit('scheduler_resumed', { atMs: this.options.clock.now() });
    this.arm();
  }

  private nextGeneratedId(): string {
    for (;;) {
      this.idSeq += 1;
      const id = `${this.idPrefix}-${this.idSeq.toString(36)}`;
      if (!this.jobs.has(id)) return id;
    }
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
    checkFn('fn', fn);
    rejectUnknownKeys('job options', options, JOB_OPTION_KEYS);
    const settings = resolveJobSettings(options, this.options, this.defaultSettings);
    const flags = checkJobFlags(options);
    const id = options.id === undefined ? this.nextGeneratedId() : checkName('id', options.id);
    const name = options.name === undefined ? (fn.name !== '' ? fn.name : id) : checkName('name', options.name);
    if (flags.persistent) {
      if (this.persistence === null) {
        throw new ConfigError(`job '${id}': persistent: true needs a scheduler created with a store (openSqliteStore / openPostgresStore).`, {
          details: { field: 'persistent', jobId: id },
        });
      }
      if (options.id === undefined) {
        throw new ConfigError('persistent: true needs an explicit id: it is how the stored schedule finds the function again after a restart.', {
          details: { field: 'id' },
        });
      }
    }
    const existing = this.jobs.get(id);
    if (existing !== undefined && !flags.replaceExisting) {
      throw new DuplicateJobError(`A job with id '${id}' already exists. Use another id, or replaceExisting: true to replace it.`, {
        details: { field: 'id', jobId: id },
      });
    }
    const nowMs = this.options.clock.now();
    const firstFireMs = trigger.next(nowMs - 1);
    const restoring = flags.persistent && (this.lifecycle !== 'running' || this.persistence?.loaded !== true);
    if (firstFireMs === null && !flags.persistent) {
      throw new InvalidTriggerError(`job '${id}': its trigger (${trigger.describe()}) never fires after now; nothing was scheduled.`, {
        details: { field: 'trigger', jobId: id },
      });
    }

    // Everything is valid: from here on the job is registered.
    if (existing !== undefined) this.dropJob(existing, 'replaced');
    const job = new LocalJob(id, name, fn, trigger, settings, flags.persistent);
    job.paused = flags.paused;
    this.jobs.set(id, job);
    if (restoring) {
      job.awaitingRestore = true;
      this.setFire(job, firstFireMs);
    } else {
      job.awaitingStart = this.lifecycle !== 'running';
      if (flags.persistent) this.restore(job, this.persistence?.take(id), nowMs, firstFireMs);
      else this.setFire(job, firstFireMs);
    }
    this.events.emit('job_added', { jobId: id, name, trigger: trigger.describe(), nextRunMs: job.scheduled ? job.dueMs : null });
    this.arm();
    return new JobHandle(id, this);
  }

  /**
   * Gives a persistent job back its stored schedule and counters. Same schedule → resume from the
   * stored next fire (a past one is due now, and the misfire policy decides); a changed schedule →
   * the code wins and the next fire is computed from now. Paused state comes from the store.
   */
  private restore(job: LocalJob, row: StoredLocalJob | undefined, nowMs: number, firstFireMs?: number | null): void {
    job.awaitingRestore = false;
    const fromNow = firstFireMs === undefined ? job.trigger.next(nowMs - 1) : firstFireMs;
    if (row === undefined) {
      if (fromNow === null) {
        this.options.logger.warn({ jobId: job.id }, 'persistent job has no stored row and its trigger never fires; removed');
        this.dropJob(job, 'finished');
        return;
      }
      this.setFire(job, fromNow);
      this.persistence?.save(job, nowMs);
      return;
    }
    job.runCount = row.runCount;
    job.missedCount = row.missedCount;
    job.lastRunMs = row.lastRunMs;
    job.lastResult = row.lastResult;
    job.lastError = row.lastError;
    job.paused = row.paused;
    if (sameSchedule(row.triggerSpec, job.trigger.toSpec())) {
      try {
        job.trigger = triggerFromSpec(row.triggerSpec);
      } catch (error) {
        this.options.logger.warn({ jobId: job.id, err: toError(error) }, 'stored trigger unreadable; using the registered one');
      }
      if (row.nextRunMs === null) {
        this.options.logger.info({ jobId: job.id }, 'persistent job already finished in an earlier run; not scheduled again');
        this.dropJob(job, 'finished');
        return;
      }
      this.setFire(job, row.nextRunMs);
    } else {
      this.options.logger.info({ jobId: job.id }, 'persistent job schedule changed in code; next fire computed from now');
      if (fromNow === null) {
        this.dropJob(job, 'finished');
        return;
      }
      this.setFire(job, fromNow);
    }
    this.persistence?.save(job, nowMs);
  }

  // ── inspecting and changing jobs ─────────────────────────────────────────────────────────────

  getJob(id: string): JobStatus | undefined {
    return this.jobs.get(id)?.snapshot();
  }

  /** Every job, soonest next fire first; paused and finished jobs last. */
  listJobs(): JobStatus[] {
    return [...this.jobs.values()]
      .map((job) => job.snapshot())
      .sort((a, b) => (a.nextRunMs ?? Number.POSITIVE_INFINITY) - (b.nextRunMs ?? Number.POSITIVE_INFINITY) || a.id.localeCompare(b.id));
  }

  pauseJob(id: string): JobStatus {
    const job = this.mustGet(id);
    if (!job.paused) {
      job.paused = true;
      this.heap.remove(job);
      this.persist(job);
      this.events.emit('job_paused', { jobId: id, name: job.name });
      this.arm();
    }
    return job.snapshot();
  }

  /** Resumes a paused job from now (APScheduler: the next fire after now; the pause's fires are not caught up). */
  resumeJob(id: string): JobStatus {
    const job = this.mustGet(id);
    if (job.paused) {
      job.paused = false;
      const nowMs = this.options.clock.now();
      if (!this.scheduleFrom(job, nowMs)) return job.snapshot();
      this.persist(job);
      this.events.emit('job_resumed', { jobId: id, name: job.name, nextRunMs: job.scheduled ? job.dueMs : null });
      this.arm();
    }
    return job.snapshot();
  }

  /** Changes settings, name or function; validated first, applied all at once. Running runs keep the old function. */
  modifyJob(id: string, changes: JobChanges): JobStatus {
    const job = this.mustGet(id);
    if (typeof changes !== 'object' || changes === null) {
      throw new ConfigError('modifyJob: changes must be an object.', { details: { field: 'changes' } });
    }
    const settings = applyJobChanges(job.settings, changes);
    const jitterChanged = settings.jitterMs !== job.settings.jitterMs;
    job.settings = settings;
    if (changes.fn !== undefined) job.fn = changes.fn;
    if (changes.name !== undefined) job.name = changes.name;
    if (jitterChanged && job.fireMs !== null) this.setFire(job, job.fireMs);
    this.persist(job);
    this.events.emit('job_modified', { jobId: id, name: job.name, changes: Object.keys(changes), nextRunMs: job.scheduled ? job.dueMs : null });
    this.arm();
    return job.snapshot();
  }

  /** Puts the job on a new trigger; its next fire is computed from now. */
  rescheduleJob(id: string, trigger: Trigger): JobStatus {
    const job = this.mustGet(id);
    checkTrigger(trigger);
    const nowMs = this.options.clock.now();
    const firstFireMs = trigger.next(nowMs - 1);
    if (firstFireMs === null) {
      throw new InvalidTriggerError(`rescheduleJob('${id}'): the new trigger (${trigger.describe()}) never fires after now; the job was left as it was.`, {
        details: { field: 'trigger', jobId: id },
      });
    }
    job.trigger = trigger;
    this.setFire(job, firstFireMs);
    this.persist(job);
    this.events.emit('job_modified', { jobId: id, name: job.name, changes: ['trigger'], nextRunMs: job.scheduled ? job.dueMs : null });
    this.arm();
    return job.snapshot();
  }

  /** Unschedules the job (and deletes its stored row). A run in progress is not interrupted. */
  removeJob(id: string): void {
    const job = this.mustGet(id);
    this.dropJob(job, 'removed');
    if (job.persistent) this.persistence?.remove(id);
    this.arm();
  }

  /**
   * Runs the job once, now, outside its schedule (the UI's "trigger now"); its next scheduled fire
   * does not move. `maxInstances` applies: at the limit the outcome is `Skipped`.
   */
  runJobNow(id: string): Promise<RunOutcome> {
    const job = this.mustGet(id);
    if (this.lifecycle !== 'running') {
      return Promise.reject(new SchedulerStoppedError(`runJobNow('${id}'): the scheduler is ${this.lifecycle}; start() it first.`));
    }
    return new Promise<RunOutcome>((resolve) => {
      const nowMs = this.options.clock.now();
      const run = this.runner.submit(job, nowMs, nowMs, resolve);
      if (run === null) resolve({ jobId: id, state: 'Skipped', result: null, error: null, durationMs: 0 });
    });
  }

  private mustGet(id: string): LocalJob {
    const job = this.jobs.get(id);
    if (job === undefined) {
      throw new JobNotFoundError(`No local job with id '${id}'. listJobs() shows the registered ids.`, { details: { jobId: id } });
    }
    return job;
  }

  private dropJob(job: LocalJob, reason: 'removed' | 'replaced' | 'finished'): void {
    if (this.jobs.get(job.id) !== job) return;
    this.jobs.delete(job.id);
    this.heap.remove(job);
    this.events.emit('job_removed', { jobId: job.id, name: job.name, reason });
  }

  private persist(job: LocalJob): void {
    if (job.persistent && !job.awaitingRestore && this.jobs.get(job.id) === job) {
      this.persistence?.save(job, this.options.clock.now());
    }
  }

  // ── timing ───────────────────────────────────────────────────────────────────────────────────

  /** Sets the job's pending fire (trigger time), applies jitter, and puts it on the heap unless paused. */
  private setFire(job: LocalJob, fireMs: number | null): void {
    job.fireMs = fireMs;
    if (fireMs === null) {
      this.heap.remove(job);
      return;
    }
    const jitterMs = job.settings.jitterMs;
    const dueMs = jitterMs > 0 ? applyJitter(fireMs, jitterMs, job.trigger.next(fireMs), this.options.random) : fireMs;
    if (job.paused) {
      job.dueMs = dueMs;
      this.heap.remove(job);
    } else {
      this.heap.upsert(job, dueMs);
    }
  }

  /** Schedules the job's first fire at or after now; a trigger with no more fires finishes the job. */
  private scheduleFrom(job: LocalJob, nowMs: number): boolean {
    const fireMs = job.trigger.next(nowMs - 1);
    if (fireMs === null) {
      this.setFire(job, null);
      this.dropJob(job, 'finished');
      this.persist(job);
      return false;
    }
    this.setFire(job, fireMs);
    return true;
  }

  private arm(): void {
    if (this.inPass || !this.firing) return;
    const top = this.heap.peek();
    if (top === undefined) {
      this.disarm();
      return;
    }
    if (this.timer !== null && this.timerWakeMs <= top.dueMs) return;
    this.disarm();
    const clock = this.options.clock;
    const delayMs = Math.min(Math.max(top.dueMs - clock.now(), 0), MAX_TIMER_MS);
    this.timerWakeMs = clock.now() + delayMs;
    this.timer = clock.setTimer(this.onTimerBound, delayMs);
  }

  private get firing(): boolean {
    return this.lifecycle === 'running' && !this.isPaused;
  }

  private disarm(): void {
    if (this.timer !== null) this.options.clock.clearTimer(this.timer);
    this.timer = null;
  }

  /** One pass: every job due by now, in due order; then one timer for the next. */
  private onTimer(): void {
    this.timer = null;
    if (!this.firing) return;
    const passStartMs = performance.now();
    const nowMs = this.options.clock.now();
    this.inPass = true;
    try {
      // A job may pause or stop the scheduler from inside the pass; the rest of the pass then waits too.
      for (let top = this.heap.peek(); top !== undefined && top.dueMs <= nowMs && this.firing; top = this.heap.peek()) {
        this.heap.pop();
        this.processDue(top, nowMs);
      }
    } finally {
      this.inPass = false;
      this.runner.explainedLagMs += performance.now() - passStartMs;
    }
    this.arm();
  }

  private processDue(job: LocalJob, nowMs: number): void {
    const fireMs = job.fireMs as number;
    const dueMs = job.dueMs;
    const followingMs = job.trigger.next(fireMs);
    if (followingMs === null || followingMs > nowMs) {
      // The common case: one fire, on time or nearly. The next fire is scheduled before the run starts,
      // so the job's own code may pause, modify or remove it.
      this.setFire(job, followingMs);
      const graceMs = job.settings.misfireGraceTimeMs;
      const lateMs = nowMs - dueMs;
      if (graceMs !== null && lateMs > graceMs) this.reportMissed(job, { count: 1, firstMs: fireMs, firstLateMs: lateMs, coalesced: false });
      else this.runner.submit(job, fireMs, dueMs, null);
    } else {
      const plan = planDueFires(job.trigger, fireMs, dueMs, nowMs, job.settings.misfireGraceTimeMs, job.settings.coalesce);
      this.setFire(job, plan.nextFireMs);
      for (const batch of plan.missed) this.reportMissed(job, batch);
      for (const runMs of plan.runs) this.runner.submit(job, runMs, runMs === fireMs ? dueMs : runMs, null);
    }
    if (job.fireMs === null && this.jobs.get(job.id) === job) {
      this.dropJob(job, 'finished');
      if (job.persistent) this.persistence?.save(job, nowMs);
    } else {
      this.persist(job);
    }
  }

  private reportMissed(job: LocalJob, batch: MissedBatch): void {
    job.missedCount += batch.count;
    job.state = RunState.Missed;
    const payload = {
      jobId: job.id,
      name: job.name,
      scheduledMs: batch.firstMs,
      lateMs: batch.firstLateMs,
      count: batch.count,
      coalesced: batch.coalesced,
    };
    if (!batch.coalesced) this.options.logger.warn(payload, `run of job '${job.name}' missed by ${batch.firstLateMs} ms`);
    this.events.emit('job_missed', payload);
  }
}

function checkTrigger(trigger: unknown): asserts trigger is Trigger {
  const candidate = trigger as Partial<Trigger> | null | undefined;
  if (
    candidate === null ||
    typeof candidate !== 'object' ||
    typeof candidate.next !== 'function' ||
    typeof candidate.describe !== 'function' ||
    typeof candidate.toSpec !== 'function'
  ) {
    throw new InvalidTriggerError('trigger: expected a Trigger (cronTrigger, intervalTrigger, dateTrigger…) with next(), describe() and toSpec().', {
      details: { field: 'trigger' },
    });
  }
}

/** Creates a local-lane scheduler. It fires nothing until `start()`. */
export function createLocalScheduler(options: LocalSchedulerOptions = {}): LocalScheduler {
  return new LocalScheduler(options);
}
