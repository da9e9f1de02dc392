import { randomBytes } from 'node:crypto';
import type { Trigger } from '../core/triggers/trigger.js';
import { ConfigError, DuplicateJobError, InvalidTriggerError, JobNotFoundError } from '../errors.js';
import type { LocalJob } from './job.js';
import {
  checkFn,
  checkJobFlags,
  checkName,
  JOB_OPTION_KEYS,
  rejectUnknownKeys,
  resolveJobSettings,
  type ResolvedJobSettings,
  type ResolvedSchedulerOptions,
} from './options.js';
import type { JobFn, JobOptions } from './types.js';

/** A new job, fully validated: what `JobRegistry.prepare` hands back for the scheduler to register. */
export interface PreparedJob {
  id: string;
  name: string;
  settings: ResolvedJobSettings;
  paused: boolean;
  persistent: boolean;
  /** The job with the same id that this one replaces (`replaceExisting`), if any. */
  replaces: LocalJob | undefined;
  /** The trigger's first fire at or after now; null only for a persistent job (its stored row may still hold one). */
  firstFireMs: number | null;
}

/**
 * The registered jobs by id, and the rules for admitting a new one. `prepare` validates every
 * option before anything changes, so bad input registers nothing.
 */
export class JobRegistry {
  private readonly jobs = new Map<string, LocalJob>();
  /**
   * Generated ids are a per-scheduler random prefix plus a counter: unique within the scheduler and
   * short. (A randomUUID() string costs ~450 bytes of heap per job in Node 20 — with 100,000 jobs that
   * alone would be 45 MB.) Persistent jobs always carry their own id.
   */
  private readonly idPrefix = randomBytes(4).toString('hex');
  private idSeq = 0;

  constructor(
    private readonly options: ResolvedSchedulerOptions,
    private readonly defaultSettings: ResolvedJobSettings,
  ) {}

  get size(): number {
    return this.jobs.size;
  }

  get(id: string): LocalJob | undefined {
    return this.jobs.get(id);
  }

  values(): IterableIterator<LocalJob> {
    return this.jobs.values();
  }

  /** Whether this very job object (not merely its id) is the registered one. */
  holds(job: LocalJob): boolean {
    return this.jobs.get(job.id) === job;
  }

  mustGet(id: string): LocalJob {
    const job = this.jobs.get(id);
    if (job === undefined) {
      throw new JobNotFoundError(`No local job with id '${id}'. listJobs() shows the registered ids.`, { details: { jobId: id } });
    }
    return job;
  }

  add(job: LocalJob): void {
    this.jobs.set(job.id, job);
  }

  /** Unregisters the job; false when it was not (or no longer) the registered one. */
  delete(job: LocalJob): boolean {
    if (!this.holds(job)) return false;
    this.jobs.delete(job.id);
    return true;
  }

  /**
   * Validates a new job — function, options, id, persistence, and that its trigger fires at all.
   *
   * @param hasStore whether the scheduler has a store (`persistent` needs one).
   * @throws ConfigError, InvalidDurationError, DuplicateJobError, InvalidTriggerError — and nothing is registered.
   */
  prepare(fn: JobFn, trigger: Trigger, options: JobOptions, nowMs: number, hasStore: boolean): PreparedJob {
    checkFn('fn', fn);
    rejectUnknownKeys('job options', options, JOB_OPTION_KEYS);
    const settings = resolveJobSettings(options, this.options, this.defaultSettings);
    const flags = checkJobFlags(options);
    const id = options.id === undefined ? this.nextGeneratedId() : checkName('id', options.id);
    const name = options.name === undefined ? (fn.name !== '' ? fn.name : id) : checkName('name', options.name);
    if (flags.persistent) {
      if (!hasStore) {
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
    const replaces = this.jobs.get(id);
    if (replaces !== undefined && !flags.replaceExisting) {
      throw new DuplicateJobError(`A job with id '${id}' already exists. Use another id, or replaceExisting: true to replace it.`, {
        details: { field: 'id', jobId: id },
      });
    }
    const firstFireMs = trigger.next(nowMs - 1);
    if (firstFireMs === null && !flags.persistent) {
      throw new InvalidTriggerError(`job '${id}': its trigger (${trigger.describe()}) never fires after now; nothing was scheduled.`, {
        details: { field: 'trigger', jobId: id },
      });
    }
    return { id, name, settings, paused: flags.paused, persistent: flags.persistent, replaces, firstFireMs };
  }

  private nextGeneratedId(): string {
    for (;;) {
      this.idSeq += 1;
      const id = `${this.idPrefix}-${this.idSeq.toString(36)}`;
      if (!this.jobs.has(id)) return id;
    }
  }
}

/** @throws InvalidTriggerError when `trigger` is not a Trigger (a JavaScript caller, or a cast). */
export function checkTrigger(trigger: unknown): asserts trigger is Trigger {
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
