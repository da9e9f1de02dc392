import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rruleTrigger } from '../../../src/core/triggers/rrule.js';
import { triggerFromSpec } from '../../../src/core/triggers/spec.js';
import { InvalidTriggerError } from '../../../src/errors.js';

describe('rrule trigger spec', () => {
  it('round-trips through triggerFromSpec and fires identically', () => {
    const original = rruleTrigger('FREQ=WEEKLY;BYDAY=MO;BYHOUR=6;BYMINUTE=0', { timezone: 'Europe/London' });
    const rebuilt = triggerFromSpec(original.toSpec());
    let a: number | null = Date.UTC(2026, 0, 1);
    let b: number | null = a;
    for (let i = 0; i < 30 && a !== null && b !== null; i += 1) {
      a = original.next(a);
      b = rebuilt.next(b);
      assert.equal(a, b);
    }
    // Monday 2026-03-30 06:00 in London is 05:00 UTC (BST began on the 29th).
    assert.equal(original.next(Date.UTC(2026, 2, 29, 12)), Date.UTC(2026, 2, 30, 5));
  });

  it('rejects a spec without a rule', () => {
    assert.throws(() => triggerFromSpec({ kind: 'rrule' } as never), (e: unknown) => e instanceof InvalidTriggerError && e.details.field === 'spec.rule');
  });
});
