import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import fc from 'fast-check';

import {
  AND_TRIGGER_MAX_ROUNDS,
  andTrigger,
  applyJitter,
  cronTrigger,
  dateTrigger,
  intervalTrigger,
  orTrigger,
  triggerFromSpec,
  type Trigger,
  type TriggerSpec,
} from '../../../src/core/triggers/index.js';
import {
  InvalidCronError,
  InvalidDateError,
  InvalidDurationError,
  InvalidTimezoneError,
  InvalidTriggerError,
  type KairosError,
} from '../../../src/errors.js';

const NUM_RUNS = 200;

function assertError(run: () => unknown, type: new (...args: never[]) => KairosError, field: string): KairosError {
  let caught: KairosError | undefined;
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.equal(error.details.field, field);
    caught = error;
    return true;
  });
  return caught as KairosError;
}

function take(trigger: Trigger, afterMs: number, count: number): number[] {
  const out: number[] = [];
  let at = afterMs;
  for (let i = 0; i < count; i += 1) {
    const fireMs = trigger.next(at);
    if (fireMs === null) break;
    out.push(fireMs);
    at = fireMs;
  }
  return out;
}

describe('intervalTrigger', () => {
  it('fires at startMs + k * everyMs, strictly after `after`, within one period', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000_000 }),
        fc.integer({ min: 0, max: 2_000_000_000_000 }),
        fc.integer({ min: -1_000_000_000, max: 1_000_000_000_000 }),
        (everyMs, startMs, deltaMs) => {
          const trigger = intervalTrigger({ everyMs, startMs });
          const afterMs = startMs + deltaMs;
          const fireMs = trigger.next(afterMs);
          assert.ok(fireMs !== null && fireMs > afterMs);
          assert.equal((fireMs - startMs) % everyMs, 0);
          assert.ok(fireMs >= startMs);
          assert.ok(afterMs < startMs ? fireMs === startMs : fireMs - afterMs <= everyMs);
          const chain = take(trigger, afterMs, 5);
          for (let i = 1; i < chain.length; i += 1) assert.equal((chain[i] ?? 0) - (chain[i - 1] ?? 0), everyMs);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('does not drift over a million periods', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3_600_000 }), fc.integer({ min: 0, max: 2_000_000_000_000 }), (everyMs, startMs) => {
        const trigger = intervalTrigger({ everyMs, startMs });
        const millionth = startMs + 1_000_000 * everyMs;
        assert.equal(trigger.next(millionth - 1), millionth);
        assert.equal(trigger.next(millionth), millionth + everyMs);
      }),
      { numRuns: NUM_RUNS },
    );
    // And walking the chain one fire at a time lands on the same grid.
    const trigger = intervalTrigger({ everyMs: 30_000, startMs: 7 });
    let at = 0;
    for (let i = 0; i < 1_000_000; i += 1) at = trigger.next(at) ?? Number.NaN;
    assert.equal(at, 7 + 999_999 * 30_000);
  });

  it('keeps the grid with fractional periods and honours endMs (inclusive)', () => {
    const trigger = intervalTrigger({ everyMs: 0.1, startMs: 0, endMs: 1 });
    const chain = take(trigger, -1, 100);
    for (let i = 1; i < chain.length; i += 1) assert.ok((chain[i] ?? 0) > (chain[i - 1] ?? 0));
    const ended = intervalTrigger({ everyMs: 1000, startMs: 0, endMs: 3000 });
    assert.deepEqual(take(ended, -1, 10), [0, 1000, 2000, 3000]);
  });

  it('rejects a period that is not a positive finite number', () => {
    for (const everyMs of [0, -5, Number.NaN, Number.POSITIVE_INFINITY]) {
      assertError(() => intervalTrigger({ everyMs, startMs: 0 }), InvalidDurationError, 'everyMs');
    }
    assertError(() => intervalTrigger({ everyMs: 1, startMs: Number.NaN }), InvalidDateError, 'startMs');
    assertError(() => intervalTrigger({ everyMs: 1, startMs: 10, endMs: 5 }), InvalidTriggerError, 'endMs');
  });
});

describe('dateTrigger', () => {
  it('fires once', () => {
    const trigger = dateTrigger(1000);
    assert.equal(trigger.next(0), 1000);
    assert.equal(trigger.next(999), 1000);
    assert.equal(trigger.next(1000), null);
    assertError(() => dateTrigger(Number.NaN), InvalidDateError, 'atMs');
  });
});

describe('andTrigger / orTrigger', () => {
  it('and: fires only where every trigger fires (lcm of two intervals)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 10_000 }), (a, b, afterMs) => {
        const both = andTrigger([intervalTrigger({ everyMs: a, startMs: 0 }), intervalTrigger({ everyMs: b, startMs: 0 })]);
        const gcd = (x: number, y: number): number => (y === 0 ? x : gcd(y, x % y));
        const lcm = (a * b) / gcd(a, b);
        assert.equal(both.next(afterMs), (Math.floor(afterMs / lcm) + 1) * lcm);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('and: hourly cron AND every 90 minutes = every 3 hours', () => {
    const trigger = andTrigger([cronTrigger('0 * * * *'), intervalTrigger({ everyMs: 5_400_000, startMs: 0 })]);
    assert.deepEqual(take(trigger, 1, 3), [3 * 3_600_000, 6 * 3_600_000, 9 * 3_600_000]);
  });

  it('and: gives up with null when the triggers never agree, or when one ends', () => {
    const never = andTrigger([intervalTrigger({ everyMs: 2, startMs: 0 }), intervalTrigger({ everyMs: 2, startMs: 1 })]);
    assert.equal(never.next(0), null);
    assert.ok(AND_TRIGGER_MAX_ROUNDS > 0);
    assert.equal(andTrigger([dateTrigger(5), intervalTrigger({ everyMs: 1, startMs: 0 })]).next(5), null);
  });

  it('or: the sorted, de-duplicated union', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 50 }), fc.integer({ min: 1, max: 50 }), fc.integer({ min: 0, max: 20 }), (a, b, offset) => {
        const either = orTrigger([intervalTrigger({ everyMs: a, startMs: 0 }), intervalTrigger({ everyMs: b, startMs: offset })]);
        const expected: number[] = [];
        for (let t = 1; expected.length < 30; t += 1) if (t % a === 0 || (t >= offset && (t - offset) % b === 0)) expected.push(t);
        assert.deepEqual(take(either, 0, 30), expected);
      }),
      { numRuns: NUM_RUNS },
    );
    assert.equal(orTrigger([dateTrigger(5), dateTrigger(7)]).next(7), null);
  });

  it('rejects an empty list', () => {
    assertError(() => andTrigger([]), InvalidTriggerError, 'triggers');
    assertError(() => orTrigger([]), InvalidTriggerError, 'triggers');
  });
});

describe('applyJitter', () => {
  it('is never early and never reaches the next fire', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2_000_000_000_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.option(fc.integer({ min: 1, max: 200_000 }), { nil: null }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (fireMs, jitterMs, gapMs, draw) => {
          const nextFireMs = gapMs === null ? null : fireMs + gapMs;
          const jittered = applyJitter(fireMs, jitterMs, nextFireMs, () => draw);
          assert.ok(jittered >= fireMs);
          assert.ok(jittered <= fireMs + jitterMs);
          if (nextFireMs !== null) assert.ok(jittered < nextFireMs);
        },
      ),
      { numRuns: NUM_RUNS },
    );
  });

  it('is uniform over [fire, fire + jitter] (chi-square on a seeded generator)', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      return seed / 2_147_483_648;
    };
    const counts = new Array<number>(10).fill(0);
    const samples = 20_000;
    for (let i = 0; i < samples; i += 1) {
      const delay = applyJitter(1_000_000, 9, null, random) - 1_000_000;
      counts[delay] = (counts[delay] ?? 0) + 1;
    }
    const expected = samples / 10;
    const chiSquare = counts.reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    // 9 degrees of freedom: 27.9 is the 0.1 % critical value.
    assert.ok(chiSquare < 27.9, `chi-square ${chiSquare}, counts ${counts.join(',')}`);
    assert.equal(applyJitter(100, 50, 101, () => 0.99), 100, 'no room before the next fire');
    assert.equal(applyJitter(100, 0, null, () => 0.5), 100);
    assertError(() => applyJitter(100, -1, null), InvalidDurationError, 'jitterMs');
  });
});

describe('triggerFromSpec', () => {
  it('round-trips every kind', () => {
    const specs: TriggerSpec[] = [
      { kind: 'cron', expression: '0 2 * * *' },
      { kind: 'cron', expression: '*/30 * * * * *', timezone: 'Europe/London', startMs: 1_000, endMs: 9_000_000_000_000 },
      { kind: 'interval', everyMs: 30_000, startMs: 5 },
      { kind: 'interval', everyMs: 30_000, startMs: 5, endMs: 1_000_000 },
      { kind: 'date', atMs: 123 },
      { kind: 'and', triggers: [{ kind: 'cron', expression: '@hourly' }, { kind: 'interval', everyMs: 5_400_000, startMs: 0 }] },
      { kind: 'or', triggers: [{ kind: 'date', atMs: 1 }, { kind: 'cron', expression: '0 0 L * *', timezone: 'Asia/Kolkata' }] },
    ];
    for (const spec of specs) {
      const trigger = triggerFromSpec(spec);
      assert.deepEqual(trigger.toSpec(), spec);
      const copy = triggerFromSpec(JSON.parse(JSON.stringify(trigger.toSpec())) as TriggerSpec);
      assert.deepEqual(take(copy, 0, 5), take(trigger, 0, 5));
      assert.equal(typeof trigger.describe(), 'string');
    }
  });

  it('rejects unknown kinds and missing members, naming the path', () => {
    assertError(() => triggerFromSpec({ kind: 'weekly' } as unknown as TriggerSpec), InvalidTriggerError, 'spec.kind');
    assertError(() => triggerFromSpec({ kind: 'cron' } as unknown as TriggerSpec), InvalidTriggerError, 'spec.expression');
    assertError(() => triggerFromSpec({ kind: 'or', triggers: [{ kind: 'x' }] } as unknown as TriggerSpec), InvalidTriggerError, 'spec.triggers[0].kind');
    assertError(() => triggerFromSpec({ kind: 'interval', everyMs: 0, startMs: 0 }), InvalidDurationError, 'everyMs');
  });
});

describe('cronTrigger syntax and errors', () => {
  it('accepts macros, names, L, W, # and a year field', () => {
    const from = Date.parse('2025-01-01T00:00:00Z');
    const iso = (expression: string, count: number, timezone?: string): string[] =>
      take(cronTrigger(expression, { timezone }), from, count).map((ms) => new Date(ms).toISOString().slice(0, 16));
    assert.deepEqual(iso('@weekly', 2), ['2025-01-05T00:00', '2025-01-12T00:00']);
    assert.deepEqual(iso('@yearly', 1), ['2026-01-01T00:00']);
    assert.deepEqual(iso('@annually', 1), ['2026-01-01T00:00']);
    assert.deepEqual(iso('@monthly', 1), ['2025-02-01T00:00']);
    assert.deepEqual(iso('@daily', 1), ['2025-01-02T00:00']);
    assert.deepEqual(iso('@midnight', 1), ['2025-01-02T00:00']);
    assert.deepEqual(iso('@hourly', 1), ['2025-01-01T01:00']);
    assert.deepEqual(iso('0 9 * * MON-FRI', 3), ['2025-01-01T09:00', '2025-01-02T09:00', '2025-01-03T09:00']);
    assert.deepEqual(iso('0 0 * * 7', 1), ['2025-01-05T00:00'], '7 is Sunday');
    assert.deepEqual(iso('0 0 * * 0', 1), ['2025-01-05T00:00'], '0 is Sunday');
    assert.deepEqual(iso('0 0 L * *', 2), ['2025-01-31T00:00', '2025-02-28T00:00']);
    assert.deepEqual(iso('0 0 15W * *', 2), ['2025-01-15T00:00', '2025-02-14T00:00']);
    assert.deepEqual(iso('0 0 * * FRI#2', 2), ['2025-01-10T00:00', '2025-02-14T00:00']);
    assert.deepEqual(iso('0 0 * * 5L', 1), ['2025-01-31T00:00']);
    assert.deepEqual(iso('0 0 0 1 1 * 2030', 1), ['2030-01-01T00:00']);
    assert.deepEqual(iso('0 0 * * *', 1, 'Asia/Kolkata'), ['2025-01-01T18:30']);
  });

  it('day-of-month and day-of-week: OR when both restricted, AND when either starts with * (Vixie)', () => {
    const from = Date.parse('2025-01-01T00:00:00Z');
    const days = (expression: string): string[] => take(cronTrigger(expression), from, 4).map((ms) => new Date(ms).toISOString().slice(0, 10));
    assert.deepEqual(days('0 0 13 * 5'), ['2025-01-03', '2025-01-10', '2025-01-13', '2025-01-17']);
    assert.deepEqual(days('0 0 */2 * 1'), ['2025-01-13', '2025-01-27', '2025-02-03', '2025-02-17']);
    // The 1st of the month AND a Sun/Tue/Thu/Sat (croner alone would OR these).
    assert.deepEqual(days('0 0 1 * */2'), ['2025-02-01', '2025-03-01', '2025-04-01', '2025-05-01']);
  });

  it('rejects bad expressions with InvalidCronError naming the expression and the reason', () => {
    for (const expression of ['', '* * * *', '61 * * * *', '* * * * * * * *', 'bogus', '0 0 30 2 *', '@reboot', '0 0 * * 1#6']) {
      const error = assertError(() => cronTrigger(expression), InvalidCronError, 'expression');
      assert.equal(error.details.expression, expression);
      assert.equal(typeof error.details.reason, 'string');
      assert.match(error.message, /e\.g\. '0 2 \* \* \*'/);
    }
    assertError(() => cronTrigger(42 as unknown as string), InvalidCronError, 'expression');
  });

  it('rejects an unknown zone and bad bounds', () => {
    assertError(() => cronTrigger('* * * * *', { timezone: 'Mars/Olympus' }), InvalidTimezoneError, 'timezone');
    assertError(() => cronTrigger('* * * * *', { timezone: '' }), InvalidTimezoneError, 'timezone');
    assertError(() => cronTrigger('* * * * *', { startMs: Number.NaN }), InvalidDateError, 'startMs');
    assertError(() => cronTrigger('* * * * *', { startMs: 10, endMs: 1 }), InvalidTriggerError, 'endMs');
    assertError(() => cronTrigger('* * * * *').next(Number.NaN), InvalidDateError, 'afterMs');
  });
});
