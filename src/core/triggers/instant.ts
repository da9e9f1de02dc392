import { InvalidDateError } from '../../errors.js';
import type { Zone } from './zone.js';

// 2025-03-09, 2025-03-09T02:30, 2025-03-09 02:30:15.123456 — with an optional Z or ±hh:mm offset.
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;

/**
 * Reads a point in time given as epoch milliseconds, a `Date`, or ISO-8601 text.
 *
 * Text without a zone offset (`'2026-01-05 09:00:00'`, as APScheduler accepts) is a local time in
 * `zone`, resolved with the Kairos DST rule (a time in a gap means the instant the gap ends; a
 * repeated time means its first occurrence). A date alone means local midnight.
 *
 * @param field the option name, reported in the error.
 * @throws InvalidDateError naming the field when the value is none of these.
 */
export function parseInstant(value: unknown, zone: Zone, field: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value)) return value;
  } else if (value instanceof Date) {
    const ms = value.getTime();
    if (Number.isFinite(ms)) return ms;
  } else if (typeof value === 'string') {
    const match = ISO.exec(value.trim());
    if (match !== null) {
      const [, year, month, day, hour, minute, second, fraction, offset] = match;
      const wallMs = Date.UTC(
        Number(year),
        Number(month) - 1,
        Number(day),
        Number(hour ?? 0),
        Number(minute ?? 0),
        Number(second ?? 0),
        Math.floor(Number(`0.${fraction ?? '0'}`) * 1000),
      );
      const check = new Date(wallMs);
      // Date.UTC rolls 2025-02-30 over to March; a real calendar date survives the round trip.
      const valid =
        check.getUTCFullYear() === Number(year) &&
        check.getUTCMonth() === Number(month) - 1 &&
        check.getUTCDate() === Number(day) &&
        Number(hour ?? 0) < 24 &&
        Number(minute ?? 0) < 60 &&
        Number(second ?? 0) < 60;
      if (valid) {
        if (offset === undefined) return zone.resolveWall(wallMs).instantMs;
        if (offset.toUpperCase() === 'Z') return wallMs;
        const sign = offset.startsWith('-') ? -1 : 1;
        const digits = offset.slice(1).replace(':', '');
        const offsetMs = sign * (Number(digits.slice(0, 2)) * 3_600_000 + Number(digits.slice(2)) * 60_000);
        return wallMs - offsetMs;
      }
    }
  }
  const shown = value instanceof Date ? 'an invalid Date' : JSON.stringify(value) ?? String(value);
  throw new InvalidDateError(
    `${field}: ${shown} is not a point in time. Give epoch milliseconds, a Date, or ISO-8601 text such as '2026-01-05T09:00:00Z' or '2026-01-05 09:00' (read in the trigger's time zone).`,
    { details: { field, value: value instanceof Date ? 'Invalid Date' : String(value) } },
  );
}
