import { triggerFromApschedulerFields, type ApschedulerTriggerKind } from '../core/triggers/index.js';
import type { Trigger } from '../core/triggers/trigger.js';
import { ConfigError, InvalidDurationError, InvalidTriggerError } from '../errors.js';
import type { JobOptions } from './types.js';

/**
 * The seed's API, kept as it is written there (APScheduler 3.x keyword names, snake_case):
 *
 * ```ts
 * await scheduler.scheduleInternalTask(healthCheck, { trigger_type: 'interval', seconds: 30, id: 'health-check' });
 * await scheduler.scheduleInternalTask(cleanupCache, { trigger_type: 'cron', hour: '*', id: 'cache-cleanup' });
 * ```
 *
 * Durations are in seconds where APScheduler uses seconds (`misfire_grace_time`, `jitter`), and map
 * onto the millisecond options of the idiomatic API.
 */
export interface ScheduleInternalTaskOptions {
  /** The trigger kind. `trigger_type` is the seed's spelling of the same option; give one of them. */
  trigger?: ApschedulerTriggerKind;
  trigger_type?: ApschedulerTriggerKind;
  // interval
  weeks?: number;
  days?: number;
  hours?: number;
  minutes?: number;
  seconds?: number;
  // cron (APScheduler 3.x: a numeric day_of_week counts Monday as 0)
  year?: number | string;
  month?: number | string;
  day?: number | string;
  week?: number | string;
  day_of_week?: number | string;
  hour?: number | string;
  minute?: number | string;
  second?: number | string;
  // date
  run_date?: Date | number | string;
  // interval and cron
  start_date?: Date | number | string;
  end_date?: Date | number | string;
  /** IANA zone for cron fields and zone-less dates. Default 'UTC'. */
  timezone?: string;
  // job options
  /** Default: a random UUID. */
  id?: string;
  name?: string;
  /** Seconds a fire may be late and still run; `null` = no limit. Default 1. */
  misfire_grace_time?: number | null;
  /** Default true. */
  coalesce?: boolean;
  /** Default 1. */
  max_instances?: number;
  /** Default false: a duplicate id throws DuplicateJobError. */
  replace_existing?: boolean;
  /** Seconds of random delay added to each fire (never early, never past the next fire). Default 0. */
  jitter?: number;
  /** Kairos extension: keep the schedule in the scheduler's store. Default false. */
  persistent?: boolean;
}

const JOB_KEYS = new Set(['id', 'name', 'misfire_grace_time', 'coalesce', 'max_instances', 'replace_existing', 'jitter', 'persistent']);
const KINDS: readonly string[] = ['interval', 'cron', 'date'];

function seconds(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidDurationError(`${field}: expected a non-negative number of seconds, got ${JSON.stringify(value) ?? typeof value}.`, {
      details: { field, value: String(value) },
    });
  }
  return Math.round(value * 1_000);
}

/** Splits the seed's options into a Trigger and idiomatic job options; throws on the first bad field. */
export function translateSeedOptions(options: ScheduleInternalTaskOptions, nowMs: number): { trigger: Trigger; options: JobOptions } {
  if (typeof options !== 'object' || options === null) {
    throw new ConfigError("scheduleInternalTask: options are required, e.g. { trigger_type: 'interval', seconds: 30, id: 'health-check' }.", {
      details: { field: 'options' },
    });
  }
  const { trigger, trigger_type: triggerType, ...rest } = options;
  if (trigger !== undefined && triggerType !== undefined && trigger !== triggerType) {
    throw new ConfigError(`trigger: '${trigger}' and trigger_type: '${triggerType}' disagree; give only one of them.`, {
      details: { field: 'trigger_type' },
    });
  }
  const kind = trigger ?? triggerType;
  if (kind === undefined || !KINDS.includes(kind)) {
    throw new InvalidTriggerError(
      `trigger_type: expected 'interval', 'cron' or 'date', got ${kind === undefined ? 'nothing' : `'${String(kind)}'`}.`,
      { details: { field: 'trigger_type', value: kind === undefined ? null : String(kind) } },
    );
  }
  const fields: Record<string, unknown> = {};
  const seed: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    if (value === undefined) continue;
    if (JOB_KEYS.has(key)) seed[key] = value;
    else fields[key] = value;
  }
  const job: JobOptions = {};
  if (seed.id !== undefined) job.id = seed.id as string;
  if (seed.name !== undefined) job.name = seed.name as string;
  if (seed.misfire_grace_time !== undefined) {
    job.misfireGraceTimeMs = seed.misfire_grace_time === null ? null : seconds('misfire_grace_time', seed.misfire_grace_time);
  }
  if (seed.coalesce !== undefined) job.coalesce = seed.coalesce as boolean;
  if (seed.max_instances !== undefined) job.maxInstances = seed.max_instances as number;
  if (seed.replace_existing !== undefined) job.replaceExisting = seed.replace_existing as boolean;
  if (seed.jitter !== undefined) job.jitterMs = seconds('jitter', seed.jitter);
  if (seed.persistent !== undefined) job.persistent = seed.persistent as boolean;
  // Unknown names are rejected here, by the trigger builder, naming the field and the allowed ones.
  return { trigger: triggerFromApschedulerFields(kind, fields, nowMs), options: job };
}
