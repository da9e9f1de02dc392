import { parseDuration, type Duration } from '../core/duration.js';
import { cronTrigger, createZone, dateTrigger, intervalTrigger, parseInstant } from '../core/triggers/index.js';
import type { Trigger } from '../core/triggers/trigger.js';
import { ConfigError } from '../errors.js';
import { JOB_OPTION_KEYS, rejectUnknownKeys } from './options.js';
import type { JobOptions } from './types.js';

/** The idiomatic schedule helpers: `every('30s')`, `cron('0 2 * * *')`, `at(date)` → a Trigger plus job options. */

/** Options of `every()`: job options plus the interval's anchor and end. */
export interface EveryOptions extends JobOptions {
  /** The first fire and the anchor of all later fires (epoch ms). Default: now + the interval (APScheduler's default). */
  startMs?: number;
  /** No fire after this instant (epoch ms, inclusive). Default: no end. */
  endMs?: number;
}

/** Options of `cron()`: job options plus the zone and bounds of the expression. */
export interface CronOptions extends JobOptions {
  /** IANA zone the expression is read in. Default 'UTC'. */
  timezone?: string;
  /** No fire before this instant (epoch ms). Default: no lower bound. */
  startMs?: number;
  /** No fire after this instant (epoch ms, inclusive). Default: no end. */
  endMs?: number;
}

/** When `at()` fires: a Date, epoch ms, or ISO-8601 text (without an offset it is UTC). */
export type Instant = Date | number | string;

export interface BuiltSchedule {
  trigger: Trigger;
  options: JobOptions;
}

const EVERY_KEYS = new Set([...JOB_OPTION_KEYS, 'startMs', 'endMs']);
const CRON_KEYS = new Set([...JOB_OPTION_KEYS, 'timezone', 'startMs', 'endMs']);

function split<T extends JobOptions>(options: T, triggerKeys: readonly string[]): { job: JobOptions; trigger: Record<string, unknown> } {
  const job: Record<string, unknown> = {};
  const trigger: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (triggerKeys.includes(key)) trigger[key] = value;
    else job[key] = value;
  }
  return { job, trigger };
}

function optionalMs(field: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError(`${field}: expected epoch milliseconds, got ${typeof value}.`, { details: { field } });
  }
  return value;
}

export function buildEvery(interval: Duration, options: EveryOptions, nowMs: number): BuiltSchedule {
  rejectUnknownKeys('every', options, EVERY_KEYS);
  const everyMs = parseDuration(interval, 'every');
  const { job, trigger } = split(options, ['startMs', 'endMs']);
  const startMs = optionalMs('startMs', trigger.startMs) ?? nowMs + everyMs;
  const endMs = optionalMs('endMs', trigger.endMs);
  return { trigger: intervalTrigger({ everyMs, startMs, endMs }), options: job };
}

export function buildCron(expression: string, options: CronOptions): BuiltSchedule {
  rejectUnknownKeys('cron', options, CRON_KEYS);
  const { job, trigger } = split(options, ['timezone', 'startMs', 'endMs']);
  return {
    trigger: cronTrigger(expression, {
      timezone: trigger.timezone as string | undefined,
      startMs: optionalMs('startMs', trigger.startMs),
      endMs: optionalMs('endMs', trigger.endMs),
    }),
    options: job,
  };
}

export function buildAt(when: Instant, options: JobOptions): BuiltSchedule {
  rejectUnknownKeys('at', options, JOB_OPTION_KEYS);
  return { trigger: dateTrigger(parseInstant(when, createZone('UTC', 'timezone'), 'at')), options };
}
