import { InvalidTimezoneError } from '../../errors.js';

/**
 * Wall-clock arithmetic for one IANA time zone, on `Intl` only.
 *
 * A "wall" value below is a local date-time written as if it were a UTC instant: the local time
 * 2025-03-09 02:30 in New York is the wall value `Date.UTC(2025, 2, 9, 2, 30)`. That lets a cron
 * library that knows nothing about zones walk local calendars, while this module decides which real
 * instant each local time means — the one place the DST rule lives.
 */

const DAY_MS = 86_400_000;

/** How a local time maps onto real instants. */
export type WallResolution =
  /** The local time happens exactly once. */
  | { kind: 'unique'; instantMs: number }
  /**
   * The local time happens twice (clocks fall back). `instantMs` is the first occurrence;
   * `repeatEndWallMs` is the first wall value after the repeated stretch, so a caller can skip it.
   */
  | { kind: 'repeated'; instantMs: number; repeatEndWallMs: number }
  /** The local time never happens (clocks spring forward); `instantMs` is the instant the gap ends. */
  | { kind: 'gap'; instantMs: number };

export interface Zone {
  /** The IANA name as given. */
  readonly name: string;
  /** Local time minus UTC at `instantMs`, in milliseconds (New York in winter: -18 000 000). */
  offsetAtMs(instantMs: number): number;
  /** The wall value of an instant. */
  wallOf(instantMs: number): number;
  /** The real instant a local time means, under the Kairos DST rule (see `WallResolution`). */
  resolveWall(wallMs: number): WallResolution;
}

/**
 * Checks an IANA zone name with the runtime's own zone database.
 *
 * @param field the option name to report in the error.
 * @throws InvalidTimezoneError naming the field and the value.
 */
export function assertTimezone(timezone: unknown, field = 'timezone'): asserts timezone is string {
  if (typeof timezone !== 'string' || timezone.trim() === '') {
    throw new InvalidTimezoneError(
      `${field}: expected an IANA time zone name such as 'UTC' or 'Europe/London', got ${JSON.stringify(timezone) ?? String(timezone)}.`,
      { details: { field, value: String(timezone) } },
    );
  }
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch (cause) {
    throw new InvalidTimezoneError(
      `${field}: '${timezone}' is not a time zone this runtime knows. Use an IANA name such as 'UTC', 'America/New_York' or 'Asia/Kolkata'.`,
      { cause, details: { field, value: timezone } },
    );
  }
}

function isUtcName(name: string): boolean {
  const upper = name.toUpperCase();
  return upper === 'UTC' || upper === 'ETC/UTC' || upper === 'GMT' || upper === 'ETC/GMT' || upper === 'Z';
}

/**
 * Builds the wall-clock helper for a zone. The `Intl.DateTimeFormat` it holds costs tens of
 * microseconds to create, so build one per trigger, not per call.
 *
 * @throws InvalidTimezoneError for a name the runtime does not know.
 */
export function createZone(name: string, field = 'timezone'): Zone {
  assertTimezone(name, field);
  if (isUtcName(name)) {
    return {
      name,
      offsetAtMs: () => 0,
      wallOf: (instantMs) => instantMs,
      resolveWall: (wallMs) => ({ kind: 'unique', instantMs: wallMs }),
    };
  }
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone: name,
    hourCycle: 'h23',
    era: 'short',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });

  function offsetAtMs(instantMs: number): number {
    // Intl works in whole seconds; offsets are computed against the instant floored to a second.
    const flooredMs = Math.floor(instantMs / 1000) * 1000;
    let year = 0;
    let month = 1;
    let day = 1;
    let hour = 0;
    let minute = 0;
    let second = 0;
    let bc = false;
    for (const part of format.formatToParts(flooredMs)) {
      switch (part.type) {
        case 'year':
          year = Number(part.value);
          break;
        case 'month':
          month = Number(part.value);
          break;
        case 'day':
          day = Number(part.value);
          break;
        case 'hour':
          hour = Number(part.value);
          break;
        case 'minute':
          minute = Number(part.value);
          break;
        case 'second':
          second = Number(part.value);
          break;
        case 'era':
          bc = part.value.startsWith('B');
          break;
        default:
          break;
      }
    }
    const date = new Date(0);
    date.setUTCFullYear(bc ? 1 - year : year, month - 1, day);
    date.setUTCHours(hour, minute, second, 0);
    return date.getTime() - flooredMs;
  }

  /** The first instant in (lowMs, highMs] whose offset is not `lowOffsetMs` — a transition. */
  function findTransition(lowMs: number, highMs: number, lowOffsetMs: number): number {
    let low = lowMs;
    let high = highMs;
    while (high - low > 1) {
      const mid = Math.floor((low + high) / 2);
      if (offsetAtMs(mid) === lowOffsetMs) low = mid;
      else high = mid;
    }
    return high;
  }

  function resolveWall(wallMs: number): WallResolution {
    // Real zones change offset at most once within any 48 hours, so the offsets a day either side
    // are the only two this local time can be read with.
    const offsetBeforeMs = offsetAtMs(wallMs - DAY_MS);
    const offsetAfterMs = offsetAtMs(wallMs + DAY_MS);
    const withBeforeMs = wallMs - offsetBeforeMs;
    const withAfterMs = wallMs - offsetAfterMs;
    const beforeValid = offsetAtMs(withBeforeMs) === offsetBeforeMs;
    if (offsetBeforeMs === offsetAfterMs) {
      if (beforeValid) return { kind: 'unique', instantMs: withBeforeMs };
      // Two transitions within two days (never seen in tzdata since 1970): fall back to a gap end.
      return { kind: 'gap', instantMs: findTransition(withBeforeMs - DAY_MS, withBeforeMs, offsetBeforeMs) };
    }
    const afterValid = offsetAtMs(withAfterMs) === offsetAfterMs;
    if (beforeValid && afterValid) {
      // Clocks fell back: both readings are real. The transition lies between them.
      const firstMs = Math.min(withBeforeMs, withAfterMs);
      const secondMs = Math.max(withBeforeMs, withAfterMs);
      const transitionMs = findTransition(firstMs, secondMs, offsetAtMs(firstMs));
      return { kind: 'repeated', instantMs: firstMs, repeatEndWallMs: transitionMs + offsetBeforeMs };
    }
    if (beforeValid) return { kind: 'unique', instantMs: withBeforeMs };
    if (afterValid) return { kind: 'unique', instantMs: withAfterMs };
    // Clocks sprang forward over this local time: it fires when the gap ends.
    const lowMs = Math.min(withBeforeMs, withAfterMs);
    const highMs = Math.max(withBeforeMs, withAfterMs);
    return { kind: 'gap', instantMs: findTransition(lowMs, highMs, offsetAtMs(lowMs)) };
  }

  return {
    name,
    offsetAtMs,
    wallOf: (instantMs) => instantMs + offsetAtMs(instantMs),
    resolveWall,
  };
}
