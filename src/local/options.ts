import { systemClock, type Clock } from '../core/clock.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { ConfigError, InvalidDurationError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { JobChanges, JobOptions, JobSettings, LocalSchedulerOptions } from './types.js';

/** Validation of scheduler and job options: every bad field is a typed error naming it, before anything changes. */

export interface ResolvedSchedulerOptions {
  clock: Clock;
  logger: Logger;
  store: Store | null;
  misfireGraceTimeMs: number | null;
  coalesce: boolean;
  maxInstances: number;
  budgetMs: number;
  eventLoopBlockMs: number | null;
  random: () => number;
  exactTimers: boolean;
}

/** The per-job settings after defaults are applied. */
export type ResolvedJobSettings = JobSettings;

export const DEFAULT_MISFIRE_GRACE_TIME_MS = 1_000;
export const DEFAULT_BUDGET_MS = 5_000;
export const DEFAULT_EVENT_LOOP_BLOCK_MS = 200;

const SCHEDULER_KEYS = new Set(['clock', 'logger', 'store', 'defaults', 'budgetMs', 'eventLoopBlockMs', 'random', 'exactTimers']);
const DEFAULT_KEYS = new Set(['misfireGraceTimeMs', 'coalesce', 'maxInstances']);
export const JOB_OPTION_KEYS: ReadonlySet<string> = new Set([
  'id',
  'name',
  'misfireGraceTimeMs',
  'coalesce',
  'maxInstances',
  'jitterMs',
  'timeoutMs',
  'budgetMs',
  'replaceExisting',
  'paused',
  'persistent',
]);
const CHANGE_KEYS = new Set(['fn', 'name', 'misfireGraceTimeMs', 'coalesce', 'maxInstances', 'jitterMs', 'timeoutMs', 'budgetMs']);

export function rejectUnknownKeys(where: string, value: object, allowed: ReadonlySet<string>): void {
  for (const key of Object.keys(value)) {
    if (!allowed.has(key)) {
      throw new ConfigError(`${where}: unknown option '${key}'. Allowed: ${[...allowed].join(', ')}.`, {
        details: { field: key },
      });
    }
  }
}

/** A duration option in milliseconds: a finite number, > 0 (or ≥ 0 with allowZero). */
export function checkMs(field: string, value: unknown, options: { allowZero?: boolean } = {}): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new InvalidDurationError(`${field}: expected a number of milliseconds, got ${describe(value)}.`, {
      details: { field, value: describe(value) },
    });
  }
  if (value < 0 || (value === 0 && options.allowZero !== true)) {
    throw new InvalidDurationError(
      `${field}: ${value} ms is not allowed; give a ${options.allowZero === true ? 'non-negative' : 'positive'} number of milliseconds.`,
      { details: { field, value } },
    );
  }
  return Math.round(value);
}

function checkGrace(field: string, value: unknown): number | null {
  if (value === null || value === Number.POSITIVE_INFINITY) return null;
  return checkMs(field, value, { allowZero: true });
}

function checkBoolean(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') {
    throw new ConfigError(`${field}: expected true or false, got ${describe(value)}.`, { details: { field } });
  }
  return value;
}

function checkPositiveInt(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new ConfigError(`${field}: expected a whole number ≥ 1, got ${describe(value)}.`, { details: { field, value: describe(value) } });
  }
  return value;
}

export function checkName(field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '' || value.length > 200) {
    throw new ConfigError(`${field}: expected a non-empty string of at most 200 characters, got ${describe(value)}.`, {
      details: { field, value: describe(value) },
    });
  }
  return value;
}

export function checkFn(field: string, value: unknown): void {
  if (typeof value !== 'function') {
    throw new ConfigError(`${field}: expected the job function, got ${describe(value)}.`, { details: { field } });
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (value === null) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean' || value === undefined) return String(value);
  return typeof value;
}

export function resolveSchedulerOptions(options: LocalSchedulerOptions): ResolvedSchedulerOptions {
  rejectUnknownKeys('createLocalScheduler', options, SCHEDULER_KEYS);
  const defaults = options.defaults ?? {};
  rejectUnknownKeys('createLocalScheduler defaults', defaults, DEFAULT_KEYS);
  if (options.store !== undefined && options.store.dialect !== 'sqlite' && options.store.dialect !== 'postgres') {
    throw new ConfigError('store: expected a store from openSqliteStore() or openPostgresStore().', { details: { field: 'store' } });
  }
  return {
    clock: options.clock ?? systemClock,
    logger: options.logger ?? silentLogger,
    store: options.store ?? null,
    misfireGraceTimeMs:
      defaults.misfireGraceTimeMs === undefined
        ? DEFAULT_MISFIRE_GRACE_TIME_MS
        : checkGrace('defaults.misfireGraceTimeMs', defaults.misfireGraceTimeMs),
    coalesce: defaults.coalesce === undefined ? true : checkBoolean('defaults.coalesce', defaults.coalesce),
    maxInstances: defaults.maxInstances === undefined ? 1 : checkPositiveInt('defaults.maxInstances', defaults.maxInstances),
    budgetMs: options.budgetMs === undefined ? DEFAULT_BUDGET_MS : checkMs('budgetMs', options.budgetMs),
    eventLoopBlockMs:
      options.eventLoopBlockMs === undefined
        ? DEFAULT_EVENT_LOOP_BLOCK_MS
        : options.eventLoopBlockMs === null
          ? null
          : checkMs('eventLoopBlockMs', options.eventLoopBlockMs),
    random: options.random ?? Math.random,
    exactTimers: options.exactTimers === undefined ? true : checkBoolean('exactTimers', options.exactTimers),
  };
}

const SETTING_KEYS = ['misfireGraceTimeMs', 'coalesce', 'maxInstances', 'jitterMs', 'timeoutMs', 'budgetMs'] as const;

/** The settings of a job that sets none of its own: one shared, frozen object per scheduler (settings are replaced, never mutated). */
export function defaultJobSettings(scheduler: ResolvedSchedulerOptions): ResolvedJobSettings {
  return Object.freeze({
    misfireGraceTimeMs: scheduler.misfireGraceTimeMs,
    coalesce: scheduler.coalesce,
    maxInstances: scheduler.maxInstances,
    jitterMs: 0,
    timeoutMs: null,
    budgetMs: scheduler.budgetMs,
  });
}

/**
 * Validates a job's options (all of them, before anything is registered) and applies the defaults.
 * A job that sets none gets `shared` — 100,000 jobs need not carry 100,000 copies of the defaults.
 */
export function resolveJobSettings(options: JobOptions, scheduler: ResolvedSchedulerOptions, shared?: ResolvedJobSettings): ResolvedJobSettings {
  if (shared !== undefined && SETTING_KEYS.every((key) => options[key] === undefined)) return shared;
  return {
    misfireGraceTimeMs:
      options.misfireGraceTimeMs === undefined ? scheduler.misfireGraceTimeMs : checkGrace('misfireGraceTimeMs', options.misfireGraceTimeMs),
    coalesce: options.coalesce === undefined ? scheduler.coalesce : checkBoolean('coalesce', options.coalesce),
    maxInstances: options.maxInstances === undefined ? scheduler.maxInstances : checkPositiveInt('maxInstances', options.maxInstances),
    jitterMs: options.jitterMs === undefined ? 0 : checkMs('jitterMs', options.jitterMs, { allowZero: true }),
    timeoutMs: options.timeoutMs === undefined ? null : checkMs('timeoutMs', options.timeoutMs),
    budgetMs: options.budgetMs === undefined ? scheduler.budgetMs : checkMs('budgetMs', options.budgetMs),
  };
}

export function checkJobFlags(options: JobOptions): { replaceExisting: boolean; paused: boolean; persistent: boolean } {
  return {
    replaceExisting: options.replaceExisting === undefined ? false : checkBoolean('replaceExisting', options.replaceExisting),
    paused: options.paused === undefined ? false : checkBoolean('paused', options.paused),
    persistent: options.persistent === undefined ? false : checkBoolean('persistent', options.persistent),
  };
}

/** Validates `modifyJob` changes into a new settings object; the caller applies it only if this returns. */
export function applyJobChanges(current: ResolvedJobSettings, changes: JobChanges): ResolvedJobSettings {
  rejectUnknownKeys('modifyJob', changes, CHANGE_KEYS);
  if (changes.fn !== undefined) checkFn('fn', changes.fn);
  if (changes.name !== undefined) checkName('name', changes.name);
  return {
    misfireGraceTimeMs:
      changes.misfireGraceTimeMs === undefined ? current.misfireGraceTimeMs : checkGrace('misfireGraceTimeMs', changes.misfireGraceTimeMs),
    coalesce: changes.coalesce === undefined ? current.coalesce : checkBoolean('coalesce', changes.coalesce),
    maxInstances: changes.maxInstances === undefined ? current.maxInstances : checkPositiveInt('maxInstances', changes.maxInstances),
    jitterMs: changes.jitterMs === undefined ? current.jitterMs : checkMs('jitterMs', changes.jitterMs, { allowZero: true }),
    timeoutMs: changes.timeoutMs === undefined ? current.timeoutMs : checkMs('timeoutMs', changes.timeoutMs),
    budgetMs: changes.budgetMs === undefined ? current.budgetMs : checkMs('budgetMs', changes.budgetMs),
  };
}
