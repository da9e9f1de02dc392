import { InvalidDurationError } from '../errors.js';

/** A duration as milliseconds, or as text: `'250ms'`, `'30s'`, `'5m'`, `'1h30m'`, `'2d'`, `'1w'`. */
export type Duration = number | string;

const UNIT_MS = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
} as const;
type Unit = keyof typeof UNIT_MS;

const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)/gy;

/**
 * Parses a duration into whole milliseconds.
 *
 * @param field the option name, so the error can say which field was wrong.
 * @throws InvalidDurationError for text that is not a duration, a negative or non-finite number, or —
 *   unless `allowZero` — zero.
 */
export function parseDuration(value: Duration, field = 'duration', options: { allowZero?: boolean } = {}): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const text = value.trim().toLowerCase();
    if (/^\d+(\.\d+)?$/.test(text)) {
      ms = Number(text);
    } else {
      PART.lastIndex = 0;
      ms = 0;
      let consumed = 0;
      for (let match = PART.exec(text); match !== null; match = PART.exec(text)) {
        ms += Number(match[1]) * UNIT_MS[match[2] as Unit];
        consumed = PART.lastIndex;
        while (text[consumed] === ' ') consumed += 1;
        PART.lastIndex = consumed;
      }
      if (consumed !== text.length || text.length === 0) {
        throw new InvalidDurationError(
          `${field}: '${value}' is not a duration. Use milliseconds as a number or text such as '500ms', '30s', '5m', '1h30m', '2d', '1w'.`,
          { details: { field, value } },
        );
      }
    }
  } else {
    throw new InvalidDurationError(`${field}: expected a number of milliseconds or text such as '30s', got ${typeof value}.`, {
      details: { field, value: String(value) },
    });
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new InvalidDurationError(`${field}: ${String(value)} is negative or not finite; durations must be positive.`, {
      details: { field, value },
    });
  }
  if (ms === 0 && options.allowZero !== true) {
    throw new InvalidDurationError(`${field}: a duration of zero is not allowed here; give a positive duration.`, {
      details: { field, value },
    });
  }
  return Math.round(ms);
}

/** Formats milliseconds as compact text (`90000` → `'1m30s'`), for logs and the CLI. */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms);
  const parts: string[] = [];
  for (const [unit, size] of [['d', UNIT_MS.d], ['h', UNIT_MS.h], ['m', UNIT_MS.m], ['s', UNIT_MS.s], ['ms', 1]] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}
