import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { planDueFires } from '../../src/local/backlog.js';
import { DueHeap, type HeapEntry } from '../../src/local/heap.js';
import { intervalTrigger } from '../../src/core/triggers/index.js';

interface Entry extends HeapEntry {
  name: number;
}

describe('DueHeap', () => {
  it('pops in (dueMs, insertion) order under any mix of push, remove, re-key and pop', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), dueMs: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('upsert' as const), pick: fc.nat(), dueMs: fc.integer({ min: 0, max: 50 }) }),
      fc.record({ kind: fc.constant('pop' as const) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const heap = new DueHeap<Entry>();
        let model: { entry: Entry; seq: number }[] = [];
        let seq = 0;
        let names = 0;
        const sortModel = (): void => {
          model.sort((a, b) => a.entry.dueMs - b.entry.dueMs || a.seq - b.seq);
        };
        for (const o of ops) {
          if (o.kind === 'push') {
            const entry: Entry = { dueMs: o.dueMs, heapSeq: 0, heapIndex: -1, name: names++ };
            heap.push(entry);
            model.push({ entry, seq: seq++ });
          } else if (o.kind === 'remove' && model.length > 0) {
            const target = model[o.pick % model.length]!;
            assert.equal(heap.remove(target.entry), true);
            assert.equal(heap.remove(target.entry), false);
            model = model.filter((m) => m !== target);
          } else if (o.kind === 'upsert' && model.length > 0) {
            const target = model[o.pick % model.length]!;
            heap.upsert(target.entry, o.dueMs);
            target.seq = seq++;
          } else if (o.kind === 'pop') {
            sortModel();
            const expected = model.shift();
            assert.equal(heap.pop(), expected?.entry);
          }
          assert.equal(heap.size, model.length);
        }
        sortModel();
        for (const expected of model) assert.equal(heap.pop(), expected.entry);
        assert.equal(heap.pop(), undefined);
      }),
    );
  });
});

describe('planDueFires', () => {
  const trigger = intervalTrigger({ everyMs: 100, startMs: 100 });

  it('plans one run for one due fire, and the next fire after now', () => {
    assert.deepEqual(planDueFires(trigger, 100, 100, 150, 1_000, true), { runs: [100], missed: [], nextFireMs: 200, capped: false });
  });

  it('bounds a huge backlog: jumps ahead, runs the latest fire within grace, and flags the counts as lower bounds', () => {
    const nowMs = 100 * 300_000 + 50;
    const plan = planDueFires(trigger, 100, 100, nowMs, 1_000, true);
    assert.equal(plan.capped, true);
    assert.deepEqual(plan.runs, [nowMs - 50]);
    assert.equal(plan.nextFireMs, nowMs + 50);
    const missed = plan.missed.reduce((sum, m) => sum + m.count, 0);
    assert.ok(missed >= 100_000 && missed < 300_000, `counted ${missed}`);
  });

  it('without coalesce caps the catch-up runs and reports the rest', () => {
    const plan = planDueFires(trigger, 100, 100, 100 * 5_000, null, false);
    assert.equal(plan.runs.length, 1_000);
    assert.equal(plan.runs.at(-1), 100 * 5_000);
    assert.deepEqual(
      plan.missed.map((m) => m.count),
      [4_000],
    );
  });
});
