import { InvalidTriggerError } from '../../errors.js';

/**
 * Translation of APScheduler 3.x `CronTrigger` fields into one crontab expression for croner.
 *
 * Two APScheduler rules shape it:
 * - Defaults: fields more significant than the least significant field given are `*`; fields less
 *   significant get their minimum. `{hour: '*'}` is `0 0 * * * *` (every hour on the hour), not every
 *   second of every hour; `{day_of_week: 'mon', hour: 2}` is Mondays at 02:00:00.
 * - All fields must match (AND), including `day` and `day_of_week`, where crontab would OR.
 * And one trap: numeric `day_of_week` counts **Monday as 0 … Sunday as 6** (crontab: Sunday = 0).
 */

/** APScheduler's field order, most significant first. */
export const APSCHEDULER_CRON_FIELDS = ['year', 'month', 'day', 'week', 'day_of_week', 'hour', 'minute', 'second'] as const;
export type ApschedulerCronField = (typeof APSCHEDULER_CRON_FIELDS)[number];

const DEFAULTS: Readonly<Record<ApschedulerCronField, string>> = {
  year: '*',
  month: '1',
  day: '1',
  week: '*',
  day_of_week: '*',
  hour: '0',
  minute: '0',
  second: '0',
};

/** Inclusive value ranges, as APScheduler validates them. */
const LIMITS: Readonly<Record<Exclude<ApschedulerCronField, 'week'>, readonly [number, number]>> = {
  year: [1970, 9999],
  month: [1, 12],
  day: [1, 31],
  day_of_week: [0, 6],
  hour: [0, 23],
  minute: [0, 59],
  second: [0, 59],
};

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] as const;
const POSITIONS = ['1st', '2nd', '3rd', '4th', '5th', 'last'] as const;

const STAR_STEP = /^\*\/(\d+)$/;
const NUMERIC_RANGE = /^(\d+)(?:-(\d+))?(?:\/(\d+))?$/;
const NAME_RANGE = /^([a-z]+)(?:-([a-z]+))?$/;
const WEEKDAY_POSITION = /^(1st|2nd|3rd|4th|5th|last)\s+(\w+)$/;

function fail(field: string, value: string, reason: string): InvalidTriggerError {
  return new InvalidTriggerError(`cron field ${field}='${value}': ${reason}`, { details: { field, value } });
}

/** The crontab weekday (0 = Sunday) of an APScheduler weekday (0 = Monday). */
function crontabWeekday(apschedulerDay: number): number {
  return (apschedulerDay + 1) % 7;
}

interface Range {
  first: number;
  last: number;
  step: number | undefined;
}

/** Checks a range the way APScheduler's RangeExpression does. */
function checkRange(field: Exclude<ApschedulerCronField, 'week'>, part: string, range: Range): Range {
  const [min, max] = LIMITS[field];
  if (range.first < min) throw fail(field, part, `${range.first} is below the minimum ${min}.`);
  if (range.last > max) throw fail(field, part, `${range.last} is above the maximum ${max}.`);
  if (range.first > range.last) throw fail(field, part, 'the first value of a range must not be higher than the last.');
  if (range.step !== undefined) {
    if (range.step === 0) throw fail(field, part, 'a step must be higher than 0.');
    if (range.step > range.last - range.first) {
      throw fail(field, part, `the step ${range.step} is larger than the range ${range.first}-${range.last}.`);
    }
  }
  return range;
}

/** Reads `*`-less numeric parts (`5`, `1-5`, `1-5/2`, `5/10`) and name ranges (`mon-fri`, `jan`). */
function readRange(field: Exclude<ApschedulerCronField, 'week'>, part: string): Range | undefined {
  const [min, max] = LIMITS[field];
  const star = STAR_STEP.exec(part);
  if (part === '*') return { first: min, last: max, step: undefined };
  if (star !== null) return checkRange(field, part, { first: min, last: max, step: Number(star[1]) });
  const numeric = NUMERIC_RANGE.exec(part);
  if (numeric !== null) {
    const first = Number(numeric[1]);
    const step = numeric[3] === undefined ? undefined : Number(numeric[3]);
    // APScheduler reads `5/10` as "from 5 to the maximum, every 10".
    const last = numeric[2] !== undefined ? Number(numeric[2]) : step === undefined ? first : max;
    return checkRange(field, part, { first, last, step });
  }
  const names = field === 'month' ? MONTHS : field === 'day_of_week' ? WEEKDAYS : undefined;
  const named = NAME_RANGE.exec(part);
  if (names !== undefined && named !== null) {
    const offset = field === 'month' ? 1 : 0;
    const index = (name: string): number => {
      const found = (names as readonly string[]).indexOf(name);
      if (found < 0) throw fail(field, part, `'${name}' is not a ${field === 'month' ? 'month' : 'weekday'} name (${names.join(', ')}).`);
      return found + offset;
    };
    const first = index(named[1] ?? '');
    const last = named[2] === undefined ? first : index(named[2]);
    return checkRange(field, part, { first, last, step: undefined });
  }
  return undefined;
}

function formatRange(range: Range, isSingle: boolean): string {
  const base = isSingle ? `${range.first}` : `${range.first}-${range.last}`;
  return range.step === undefined ? base : `${base}/${range.step}`;
}

function translateSimple(field: 'year' | 'month' | 'hour' | 'minute' | 'second', value: string): string {
  return value
    .split(',')
    .map((raw) => {
      const part = raw.trim();
      if (part === '*') return '*';
      const range = readRange(field, part);
      // `*/n` reads better kept as is; a year step must start at APScheduler's first year, 1970.
      if (field !== 'year' && STAR_STEP.test(part)) return part;
      if (range === undefined) throw fail(field, value, `'${part}' is not an expression APScheduler accepts here (*, */n, a, a-b, a-b/n, a,b,c${field === 'month' ? ', jan-dec' : ''}).`);
      return formatRange(range, range.first === range.last && range.step === undefined);
    })
    .join(',');
}

function translateDayOfWeek(value: string): string {
  return value
    .split(',')
    .map((raw) => {
      const part = raw.trim();
      if (part === '*') return '*';
      const range = readRange('day_of_week', part);
      if (range === undefined) {
        throw fail('day_of_week', value, `'${part}' is not a weekday expression (0-6 with 0 = Monday, mon-sun, ranges such as mon-fri or 0-4, */n).`);
      }
      if (range.first === range.last && range.step === undefined) return `${crontabWeekday(range.first)}`;
      // Shifting a whole range by one keeps its stepping: APScheduler 0-6 (Mon–Sun) is crontab 1-7.
      return formatRange({ first: range.first + 1, last: range.last + 1, step: range.step }, false);
    })
    .join(',');
}

interface DayParts {
  /** Day-of-month parts for croner (`1`, `1-31/2`, `L`). */
  monthDays: string[];
  /** Weekday-position parts (`2nd fri` → `5#2`) that croner reads in day-of-week. */
  positions: string[];
}

function translateDay(value: string): DayParts {
  const parts: DayParts = { monthDays: [], positions: [] };
  for (const raw of value.split(',')) {
    const part = raw.trim();
    const position = WEEKDAY_POSITION.exec(part);
    if (part === 'last') {
      parts.monthDays.push('L');
    } else if (position !== null) {
      const weekday = (WEEKDAYS as readonly string[]).indexOf(position[2] ?? '');
      if (weekday < 0) throw fail('day', value, `'${position[2] ?? ''}' is not a weekday name (${WEEKDAYS.join(', ')}).`);
      const nth = position[1] === 'last' ? 'L' : String(POSITIONS.indexOf(position[1] as (typeof POSITIONS)[number]) + 1);
      parts.positions.push(`${crontabWeekday(weekday)}#${nth}`);
    } else if (part === '*') {
      parts.monthDays.push('*');
    } else {
      const range = readRange('day', part);
      if (range === undefined) {
        throw fail('day', value, `'${part}' is not a day expression (*, */n, 1-31, a-b, a-b/n, last, '2nd fri', 'last mon').`);
      }
      // Written as an explicit range, never `*/n`: a leading `*` would switch on Vixie's AND rule.
      parts.monthDays.push(formatRange(range, range.first === range.last && range.step === undefined));
    }
  }
  return parts;
}

function asText(field: string, value: unknown): string {
  if (typeof value === 'number' && Number.isInteger(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim().toLowerCase();
  throw new InvalidTriggerError(`cron field ${field}: expected an integer or an expression string such as '*/5' or 'mon-fri', got ${JSON.stringify(value) ?? String(value)}.`, {
    details: { field, value: String(value) },
  });
}

/**
 * Builds the crontab expression (6 fields with seconds, or 7 with a year) equal to an APScheduler
 * 3.x cron field set.
 *
 * @param given the cron fields that were set (`undefined` / `null` entries count as not set).
 * @throws InvalidTriggerError naming the field for a value APScheduler would reject, or one that a
 *   cron expression cannot say (an ISO `week`, or `day` weekday positions together with `day_of_week`).
 */
export function apschedulerCronExpression(given: Partial<Record<ApschedulerCronField, unknown>>): string {
  const present = APSCHEDULER_CRON_FIELDS.filter((field) => given[field] !== undefined && given[field] !== null);
  const leastSignificant = present.length === 0 ? -1 : APSCHEDULER_CRON_FIELDS.indexOf(present[present.length - 1] as ApschedulerCronField);
  const text = {} as Record<ApschedulerCronField, string>;
  APSCHEDULER_CRON_FIELDS.forEach((field, index) => {
    const value = given[field];
    if (value !== undefined && value !== null) text[field] = asText(field, value);
    // With no field at all APScheduler leaves everything `*` (every second).
    else text[field] = present.length > 0 && index > leastSignificant ? DEFAULTS[field] : '*';
  });

  if (text.week !== '*') {
    throw fail('week', text.week, 'ISO week numbers cannot be expressed as a cron expression; use month/day/day_of_week instead, or a cron string.');
  }
  const year = text.year === '*' ? '*' : translateSimple('year', text.year);
  const month = translateSimple('month', text.month);
  const hour = translateSimple('hour', text.hour);
  const minute = translateSimple('minute', text.minute);
  const second = translateSimple('second', text.second);
  const dayOfWeek = translateDayOfWeek(text.day_of_week);
  const day = translateDay(text.day);

  const weekdayRestricted = dayOfWeek !== '*';
  const monthDays = day.monthDays.includes('*') ? ['*'] : day.monthDays;
  let domField: string;
  let dowField: string;
  if (day.positions.length === 0) {
    domField = monthDays.join(',');
    // APScheduler ANDs day and day_of_week; croner's `+` asks for exactly that.
    dowField = weekdayRestricted && domField !== '*' ? `+${dayOfWeek}` : dayOfWeek;
  } else if (weekdayRestricted) {
    throw fail('day', text.day, `weekday positions such as '2nd fri' cannot be combined with day_of_week='${text.day_of_week}' in a cron expression; put the weekday in the position instead.`);
  } else if (monthDays.includes('*')) {
    // `*` in day already matches every day; the positions add nothing.
    domField = '*';
    dowField = '*';
  } else {
    // Positions live in day-of-week; with plain month days beside them, crontab's OR gives APScheduler's union.
    domField = monthDays.length === 0 ? '*' : monthDays.join(',');
    dowField = day.positions.join(',');
  }
  const fields = [second, minute, hour, domField, month, dowField];
  if (year !== '*') fields.push(year);
  return fields.join(' ');
}
