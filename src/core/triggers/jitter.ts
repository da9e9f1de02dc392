import { InvalidDurationError } from '../../errors.js';

/**
 * Delays a fire by a random amount, APScheduler style, without ever firing early or colliding with
 * the next fire.
 *
 * The delay is uniform over whole milliseconds from 0 to `jitterMs` inclusive, cut short so the
 * result stays before `nextFireMs`: never before `fireMs`, never at or past `nextFireMs` (so jitter
 * cannot reorder or merge fires).
 * With `jitterMs` 0, or no room before the next fire, it is `fireMs`.
 *
 * @param fireMs the planned fire instant, epoch ms.
 * @param jitterMs the largest delay, ms (≥ 0).
 * @param nextFireMs the fire after this one, or `null` when there is none.
 * @param random a source of numbers in [0, 1). Default `Math.random`; inject one for reproducible tests.
 * @throws InvalidDurationError when `jitterMs` is negative or not finite.
 */
export function applyJitter(
  fireMs: number,
  jitterMs: number,
  nextFireMs: number | null,
  random: () => number = Math.random,
): number {
  if (typeof jitterMs !== 'number' || !Number.isFinite(jitterMs) || jitterMs < 0) {
    throw new InvalidDurationError(`jitter: must be a non-negative number of milliseconds, got ${String(jitterMs)}.`, {
      details: { field: 'jitterMs', value: String(jitterMs) },
    });
  }
  const limitMs = nextFireMs === null ? fireMs + jitterMs + 1 : Math.min(fireMs + jitterMs + 1, nextFireMs);
  // Whole milliseconds in [fireMs, limitMs): `span` choices.
  const span = Math.floor(limitMs - fireMs);
  if (span <= 1) return fireMs;
  const draw = random();
  const unit = Number.isFinite(draw) ? Math.min(Math.max(draw, 0), 1 - Number.EPSILON) : 0;
  const delayMs = Math.min(Math.floor(unit * span), span - 1);
  const jitteredMs = fireMs + delayMs;
  return nextFireMs !== null && jitteredMs >= nextFireMs ? fireMs : jitteredMs;
}
