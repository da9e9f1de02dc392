/**
 * Test oracles for triggers, written independently of src/core/triggers: wall-clock fields come
 * straight from Intl, and cron matching is a small crontab matcher for the generated grammar.
 */
import fc from 'fast-check';

export const ZONES = ['UTC', 'America/New_York', 'Europe/London', 'Australia/Lord_Howe', 'Asia/Kolkata'] as const;

export interface WallParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday. */
  weekday: number;
}

const WEEKDAY_INDEX: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const formats = new Map<string, Intl.DateTimeFormat>();

export function wallParts(instantMs: number, zone: string): WallParts {
  let format = formats.get(zone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formats.set(zone, format);
  }
  const out: Record<string, string> = {};
  for (const part of format.formatToParts(instantMs)) out[part.type] = part.value;
  return {
    year: Number(out.year),
    month: Number(out.month),
    day: Number(out.day),
    hour: Number(out.hour),
    minute: Number(out.minute),
    second: Number(out.second),
    weekday: WEEKDAY_INDEX[out.weekday ?? ''] ?? -1,
  };
}

export function offsetMs(instantMs: number, zone: string): number {
  const p = wallParts(instantMs, zone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(instantMs / 1000) * 1000;
}

/** True when this instant's local time was already shown earlier (second pass of a fall-back hour). */
export function isSecondPass(instantMs: number, zone: string): boolean {
  const before = offsetMs(instantMs - 3 * 3_600_000, zone);
  const now = offsetMs(instantMs, zone);
  if (before <= now) return false;
  const earlier = instantMs - (before - now);
  const a = wallParts(earlier, zone);
  const b = wallParts(instantMs, zone);
  return a.year === b.year && a.month === b.month && a.day === b.day && a.hour === b.hour && a.minute === b.minute && a.second === b.second;
}

/** True when clocks jumped forward exactly at this instant (it ends a DST gap). */
export function isGapEnd(instantMs: number, zone: string): boolean {
  return offsetMs(instantMs - 1000, zone) < offsetMs(instantMs, zone);
}

/** A generated cron expression with the value sets it means. */
export interface GeneratedCron {
  expression: string;
  seconds: Set<number> | null;
  minutes: Set<number>;
  hours: Set<number>;
  monthDays: Set<number>;
  lastDay: boolean;
  months: Set<number>;
  weekdays: Set<number>;
  /** `[weekday, nth]` pairs; nth 'L' = last such weekday of the month. */
  positions: Array<[number, number | 'L']>;
  domStar: boolean;
  dowStar: boolean;
}

interface FieldValue {
  text: string;
  values: number[];
}

function range(first: number, last: number, step = 1): number[] {
  const out: number[] = [];
  for (let v = first; v <= last; v += step) out.push(v);
  return out;
}

/** '*', 'n', 'a-b', '*∕n', 'a-b/n' or a list of singles, within [min, max]. */
function fieldArb(min: number, max: number): fc.Arbitrary<FieldValue> {
  const single = fc.integer({ min, max }).map((v) => ({ text: `${v}`, values: [v] }));
  const span = fc
    .tuple(fc.integer({ min, max }), fc.integer({ min, max }))
    .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
  return fc.oneof(
    { arbitrary: fc.constant({ text: '*', values: range(min, max) }), weight: 3 },
    { arbitrary: single, weight: 3 },
    { arbitrary: span.map(([a, b]) => ({ text: `${a}-${b}`, values: range(a, b) })), weight: 2 },
    {
      arbitrary: fc.integer({ min: 2, max: Math.max(2, Math.floor((max - min) / 2)) }).map((step) => ({ text: `*/${step}`, values: range(min, max, step) })),
      weight: 2,
    },
    {
      arbitrary: fc
        .tuple(span, fc.integer({ min: 1, max: 6 }))
        .filter(([[a, b], step]) => b - a >= step)
        .map(([[a, b], step]) => ({ text: `${a}-${b}/${step}`, values: range(a, b, step) })),
      weight: 1,
    },
    {
      arbitrary: fc.uniqueArray(fc.integer({ min, max }), { minLength: 2, maxLength: 4 }).map((vs) => ({ text: vs.join(','), values: vs })),
      weight: 2,
    },
  );
}

const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

type DowValue = { text: string; weekdays: number[]; positions: Array<[number, number | 'L']> };
const dowArb: fc.Arbitrary<DowValue> = fc.oneof(
  { arbitrary: fieldArb(0, 7).map((f) => ({ text: f.text, weekdays: f.values.map((v) => v % 7), positions: [] })), weight: 5 },
  { arbitrary: fc.integer({ min: 0, max: 6 }).map((v) => ({ text: DAY_NAMES[v] ?? 'SUN', weekdays: [v], positions: [] })), weight: 1 },
  {
    arbitrary: fc.tuple(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 1, max: 4 })).map(([w, n]) => ({ text: `${w}#${n}`, weekdays: [], positions: [[w, n] as [number, number]] })),
    weight: 1,
  },
  { arbitrary: fc.integer({ min: 0, max: 6 }).map((w) => ({ text: `${w}L`, weekdays: [], positions: [[w, 'L'] as [number, 'L']] })), weight: 1 },
);

type DomValue = { text: string; days: number[]; last: boolean };
const domArb: fc.Arbitrary<DomValue> = fc.oneof(
  { arbitrary: fieldArb(1, 31).map((f) => ({ text: f.text, days: f.values, last: false })), weight: 6 },
  { arbitrary: fc.constant<DomValue>({ text: 'L', days: [], last: true }), weight: 1 },
);

/**
 * @param options.withSeconds false: always 5 fields. Default: a seconds field one time in three.
 * @param options.everyDay true: day-of-month, month and day-of-week are `*`, so the expression fires
 *   daily and DST transitions are hit often.
 */
export function cronArb(options: { withSeconds?: boolean; everyDay?: boolean } = {}): fc.Arbitrary<GeneratedCron> {
  const seconds = options.withSeconds === false ? fc.constant(null) : fc.option(fieldArb(0, 59), { nil: null, freq: 3 });
  const every = options.everyDay === true;
  const star = { text: '*', values: [] as number[] };
  return fc
    .record({
      seconds,
      minutes: fieldArb(0, 59),
      hours: fieldArb(0, 23),
      dom: every ? fc.constant<DomValue>({ text: '*', days: range(1, 31), last: false }) : domArb,
      months: every ? fc.constant({ ...star, values: range(1, 12) }) : fieldArb(1, 12),
      dow: every ? fc.constant<DowValue>({ text: '*', weekdays: range(0, 6), positions: [] }) : dowArb,
    })
    .map(({ seconds: s, minutes, hours, dom, months, dow }) => ({
      expression: [...(s === null ? [] : [s.text]), minutes.text, hours.text, dom.text, months.text, dow.text].join(' '),
      seconds: s === null ? null : new Set(s.values),
      minutes: new Set(minutes.values),
      hours: new Set(hours.values),
      monthDays: new Set(dom.days),
      lastDay: dom.last,
      months: new Set(months.values),
      weekdays: new Set(dow.weekdays),
      positions: dow.positions,
      domStar: dom.text.startsWith('*'),
      dowStar: dow.text.startsWith('*'),
    }));
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Crontab (Vixie) matching of local wall fields. */
export function matchesWall(cron: GeneratedCron, p: WallParts): boolean {
  if (cron.seconds === null ? p.second !== 0 : !cron.seconds.has(p.second)) return false;
  if (!cron.minutes.has(p.minute) || !cron.hours.has(p.hour) || !cron.months.has(p.month)) return false;
  const lastDay = daysInMonth(p.year, p.month);
  const domMatch = cron.monthDays.has(p.day) || (cron.lastDay && p.day === lastDay);
  const dowMatch =
    cron.weekdays.has(p.weekday) ||
    cron.positions.some(([weekday, nth]) => weekday === p.weekday && (nth === 'L' ? p.day + 7 > lastDay : Math.ceil(p.day / 7) === nth));
  return cron.domStar || cron.dowStar ? domMatch && dowMatch : domMatch || dowMatch;
}

/** Every offset change of the test zones between 2000 and 2040 (found by a daily scan, then bisection). */
function transitionsOf(zone: string): number[] {
  const found: number[] = [];
  const dayMs = 86_400_000;
  let previous = offsetMs(Date.UTC(2000, 0, 1), zone);
  for (let t = Date.UTC(2000, 0, 1) + dayMs; t <= Date.UTC(2040, 0, 1); t += dayMs) {
    const current = offsetMs(t, zone);
    if (current !== previous) {
      let low = t - dayMs;
      let high = t;
      while (high - low > 1000) {
        const mid = Math.floor((low + high) / 2000) * 1000;
        if (offsetMs(mid, zone) === previous) low = mid;
        else high = mid;
      }
      found.push(high);
      previous = current;
    }
  }
  return found;
}

export const TRANSITIONS: readonly number[] = ZONES.flatMap((zone) => transitionsOf(zone)).sort((a, b) => a - b);

/** Instants between 2000 and 2040: uniform, in DST months, and within three hours of a real DST change. */
export const instantArb: fc.Arbitrary<number> = fc.oneof(
  fc.integer({ min: Date.UTC(2000, 0, 1), max: Date.UTC(2040, 0, 1) }),
  fc
    .tuple(fc.integer({ min: 2000, max: 2039 }), fc.constantFrom(2, 3, 9, 10), fc.integer({ min: 0, max: 31 * 86_400_000 }))
    .map(([year, month, offset]) => Date.UTC(year, month, 1) + offset),
  fc
    .tuple(fc.constantFrom(...TRANSITIONS), fc.integer({ min: -3 * 3_600_000, max: 3 * 3_600_000 }))
    .map(([transitionMs, offset]) => transitionMs + offset),
);
