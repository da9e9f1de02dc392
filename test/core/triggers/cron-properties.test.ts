import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import { cronTrigger } from '../../../src/core/triggers/index.js';
import type { Trigger } from '../../../src/core/triggers/index.js';
import { InvalidCronError } from '../../../src/errors.js';
import { TRANSITIONS, ZONES, cronArb, instantArb, isGapEnd, isSecondPass, matchesWall, wallParts, type GeneratedCron } from './support.js';

const NUM_RUNS = 200;
const MINUTE_MS = 60_000;

function build(cron: GeneratedCron, timezone: string, bounds: { startMs?: number; endMs?: number } = {}): Trigger | null {
  try {
    return cronTrigger(cron.expression, { timezone, ...bounds });
  } catch (error) {
    // A generated combination may match no date at all (31 in February only); that is rejected by design.
    if (error instanceof InvalidCronError && String(error.details.reason).includes('matches no date')) return null;
    throw error;
  }
}

describe('cronTrigger properties', () => {
  it('chains of 20 fires are strictly increasing and every fire matches the expression in its zone', () => {
    fc.assert(
      fc.property(cronArb(), fc.constantFrom(...ZONES), instantArb, (cron, zone, startMs) => {
        const trigger = build(cron, zone);
        if (trigger === null) return; // no date matches: nothing to check
        let afterMs = startMs;
        for (let i = 0; i < 20; i += 1) {
          const fireMs: number | null = trigger.next(afterMs);
          if (fireMs === null) break;
          assert.ok(fireMs > afterMs, `${cron.expression} ${zone}: ${fireMs} not after ${afterMs}`);
          assert.equal(fireMs % 1000, 0, 'cron fires land on whole seconds');
          const parts = wallParts(fireMs, zone);
          // A fire whose wall time does not match can only be a gap end standing in for a local time that did not exist.
          assert.ok(
            matchesWall(cron, parts) || isGapEnd(fireMs, zone),
            `${cron.expression} ${zone}: fire ${new Date(fireMs).toISOString()} (${JSON.stringify(parts)}) does not match`,
          );
          assert.ok(!isSecondPass(fireMs, zone), `${cron.expression} ${zone}: fired twice for one local time at ${new Date(fireMs).toISOString()}`);
          afterMs = fireMs;
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('nothing between after and next() matches (minute by minute, 5-field crons, windows under a day)', () => {
    fc.assert(
      fc.property(cronArb({ withSeconds: false }), fc.constantFrom(...ZONES), instantArb, (cron, zone, startMs) => {
        const trigger = build(cron, zone);
        if (trigger === null) return; // no date matches: nothing to check
        const afterMs = Math.floor(startMs / MINUTE_MS) * MINUTE_MS;
        const fireMs: number | null = trigger.next(afterMs);
        fc.pre(fireMs !== null && fireMs - afterMs <= 86_400_000);
        for (let minuteMs = afterMs + MINUTE_MS; minuteMs < fireMs; minuteMs += MINUTE_MS) {
          const parts = wallParts(minuteMs, zone);
          assert.ok(
            !matchesWall(cron, parts) || isSecondPass(minuteMs, zone),
            `${cron.expression} ${zone}: ${new Date(minuteMs).toISOString()} matches but next(${new Date(afterMs).toISOString()}) = ${new Date(fireMs).toISOString()}`,
          );
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('across real DST changes: each local time fires at most once, a skipped one fires when the gap ends', () => {
    fc.assert(
      fc.property(
        cronArb({ everyDay: true }),
        fc.constantFrom(...ZONES.filter((zone) => zone !== 'UTC')),
        fc.constantFrom(...TRANSITIONS),
        fc.integer({ min: -3 * 3_600_000, max: 0 }),
        (cron, zone, transitionMs, offsetMs) => {
          const trigger = build(cron, zone)!;
          let afterMs = transitionMs + offsetMs;
          const seen = new Set<string>();
          for (let i = 0; i < 40; i += 1) {
            const fireMs: number | null = trigger.next(afterMs);
            assert.ok(fireMs !== null && fireMs > afterMs);
            const parts = wallParts(fireMs, zone);
            assert.ok(matchesWall(cron, parts) || isGapEnd(fireMs, zone), `${cron.expression} ${zone}: ${new Date(fireMs).toISOString()}`);
            assert.ok(!isSecondPass(fireMs, zone), `${cron.expression} ${zone}: second pass fire at ${new Date(fireMs).toISOString()}`);
            const key = JSON.stringify(parts);
            assert.ok(!seen.has(key), `${cron.expression} ${zone}: local time ${key} fired twice`);
            seen.add(key);
            afterMs = fireMs;
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('honours startMs (inclusive) and endMs (inclusive)', () => {
    fc.assert(
      fc.property(
        cronArb(),
        fc.constantFrom(...ZONES),
        instantArb,
        fc.integer({ min: -30 * 86_400_000, max: 30 * 86_400_000 }),
        fc.integer({ min: 0, max: 60 * 86_400_000 }),
        (cron, zone, afterMs, startOffsetMs, windowMs) => {
          const free = build(cron, zone);
          if (free === null) return;
          const startMs = afterMs + startOffsetMs;
          const endMs = startMs + windowMs;
          const bounded = build(cron, zone, { startMs, endMs })!;
          const fireMs = bounded.next(afterMs);
          const expected = free.next(Math.max(afterMs, startMs - 1));
          assert.equal(fireMs, expected !== null && expected <= endMs ? expected : null);
          if (fireMs !== null) {
            assert.ok(fireMs >= startMs && fireMs <= endMs && fireMs > afterMs);
          }
          // A fire exactly at startMs is kept.
          if (expected !== null) {
            const atStart = build(cron, zone, { startMs: expected })!;
            assert.equal(atStart.next(expected - 60 * 86_400_000), expected);
            const atEnd = build(cron, zone, { endMs: expected })!;
            assert.equal(atEnd.next(expected - 1), expected);
            assert.equal(atEnd.next(expected), null);
          }
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });
});
