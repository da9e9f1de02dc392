import { InvalidDurationError, InvalidTriggerError } from '../../errors.js';
import { APSCHEDULER_CRON_FIELDS, apschedulerCronExpression, type ApschedulerCronField } from './apscheduler-cron.js';
import { cronTrigger } from './cron.js';
import { dateTrigger } from './date.js';
import { parseInstant } from './instant.js';
import { intervalTrigger } from './interval.js';
import type { Trigger } from './trigger.js';
import { createZone, type Zone } from './zone.js';

/** The trigger kinds of APScheduler 3.x (`add_job(fn, 'interval', seconds=30)`). */
export type ApschedulerTriggerKind = 'interval' | 'cron' | 'date';

const INTERVAL_UNITS_MS = {
  weeks: 604_800_000,
  days: 86_400_000,
  hours: 3_600_000,
  minutes: 60_000,
  seconds: 1_000,
  milliseconds: 1,
} as const;
type IntervalUnit = keyof typeof INTERVAL_UNITS_MS;

/** The fields each kind accepts; anything else is rejected by name. */
export const APSCHEDULER_TRIGGER_FIELDS: Readonly<Record<ApschedulerTriggerKind, readonly string[]>> = {
  interval: [...(Object.keys(INTERVAL_UNITS_MS) as IntervalUnit[]), 'start_date', 'end_date', 'timezone'],
  cron: [...APSCHEDULER_CRON_FIELDS, 'start_date', 'end_date', 'timezone'],
  date: ['run_date', 'timezone'],
};

function checkFieldNames(kind: ApschedulerTriggerKind, fields: Record<string, unknown>): void {
  const allowed = APSCHEDULER_TRIGGER_FIELDS[kind];
  for (const name of Object.keys(fields)) {
    if (allowed.includes(name)) continue;
    const hint =
      name === 'jitter'
        ? ' jitter belongs to the job, not the trigger: pass it as the job option and apply it with applyJitter().'
        : '';
    throw new InvalidTriggerError(`${kind} trigger: unknown field '${name}'. Allowed: ${allowed.join(', ')}.${hint}`, {
      details: { field: name, kind, allowed: [...allowed] },
    });
  }
}

function given(fields: Record<string, unknown>, name: string): unknown {
  const value = fields[name];
  return value === null ? undefined : value;
}

function zoneOf(fields: Record<string, unknown>): Zone {
  const timezone = given(fields, 'timezone');
  return createZone(timezone === undefined ? 'UTC' : (timezone as string), 'timezone');
}

function optionalInstant(fields: Record<string, unknown>, name: string, zone: Zone): number | undefined {
  const value = given(fields, name);
  return value === undefined ? undefined : parseInstant(value, zone, name);
}

function intervalFromFields(fields: Record<string, unknown>, nowMs: number): Trigger {
  const zone = zoneOf(fields);
  let everyMs = 0;
  for (const unit of Object.keys(INTERVAL_UNITS_MS) as IntervalUnit[]) {
    const value = given(fields, unit);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      const shown = JSON.stringify(value) ?? typeof value;
      throw new InvalidDurationError(`interval trigger: ${unit} must be a non-negative number, got ${shown}.`, {
        details: { field: unit, value: shown },
      });
    }
    everyMs += value * INTERVAL_UNITS_MS[unit];
  }
  if (everyMs <= 0) {
    throw new InvalidDurationError(
      'interval trigger: the interval is zero. Give at least one of weeks, days, hours, minutes, seconds, milliseconds, e.g. {seconds: 30}.',
      { details: { field: 'seconds', value: '0' } },
    );
  }
  const startMs = optionalInstant(fields, 'start_date', zone);
  const endMs = optionalInstant(fields, 'end_date', zone);
  // APScheduler 3.x: the first fire is start_date itself; without one, one interval after now.
  return intervalTrigger({ everyMs, startMs: startMs ?? nowMs + everyMs, endMs });
}

function cronFromFields(fields: Record<string, unknown>): Trigger {
  const zone = zoneOf(fields);
  const cronFields: Partial<Record<ApschedulerCronField, unknown>> = {};
  for (const name of APSCHEDULER_CRON_FIELDS) cronFields[name] = given(fields, name);
  const expression = apschedulerCronExpression(cronFields);
  const timezone = given(fields, 'timezone');
  return cronTrigger(expression, {
    timezone: timezone === undefined ? undefined : zone.name,
    startMs: optionalInstant(fields, 'start_date', zone),
    endMs: optionalInstant(fields, 'end_date', zone),
  });
}

function dateFromFields(fields: Record<string, unknown>, nowMs: number): Trigger {
  const zone = zoneOf(fields);
  // APScheduler 3.x: run_date defaults to now.
  return dateTrigger(optionalInstant(fields, 'run_date', zone) ?? nowMs);
}

/**
 * Builds a trigger from APScheduler 3.x keyword fields, for code ported from the seed
 * (`scheduler.add_job(fn, 'cron', hour=2, minute=0)` → `triggerFromApschedulerFields('cron', {hour: 2, minute: 0}, now)`).
 *
 * - `interval`: `weeks days hours minutes seconds milliseconds` (summed; `milliseconds` is a Kairos
 *   extension), `start_date` (the anchor and first fire; default `nowMs + interval`), `end_date`
 *   (inclusive), `timezone` (only used to read zone-less date strings).
 * - `cron`: `year month day week day_of_week hour minute second start_date end_date timezone`, with
 *   APScheduler's defaults (see `apschedulerCronExpression`). **`day_of_week` numbers count Monday as
 *   0 and Sunday as 6, as APScheduler 3.x does — unlike crontab strings, where Sunday is 0.** Names
 *   (`mon`…`sun`, `mon-fri`) mean the same everywhere. `week` (ISO week) is not supported.
 * - `date`: `run_date` (epoch ms, `Date`, or ISO text; default `nowMs`), `timezone`.
 *
 * Zone-less date strings are read in `timezone`, which defaults to UTC (APScheduler's default is the
 * host's local zone; Kairos never depends on the host zone).
 *
 * @param nowMs the current instant, for the defaults above.
 * @throws InvalidTriggerError for an unknown kind or field (naming it and listing the allowed ones);
 *   InvalidDurationError, InvalidDateError, InvalidTimezoneError for bad values.
 */
export function triggerFromApschedulerFields(
  kind: ApschedulerTriggerKind,
  fields: Record<string, unknown>,
  nowMs: number,
): Trigger {
  if (kind !== 'interval' && kind !== 'cron' && kind !== 'date') {
    throw new InvalidTriggerError(`unknown trigger kind ${JSON.stringify(kind) ?? String(kind)}; expected 'interval', 'cron' or 'date'.`, {
      details: { field: 'trigger', value: String(kind) },
    });
  }
  if (typeof fields !== 'object' || fields === null) {
    throw new InvalidTriggerError(`${kind} trigger: fields must be an object such as {seconds: 30}.`, { details: { field: 'fields' } });
  }
  checkFieldNames(kind, fields);
  if (kind === 'interval') return intervalFromFields(fields, nowMs);
  if (kind === 'cron') return cronFromFields(fields);
  return dateFromFields(fields, nowMs);
}
