import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { flow, task } from '../../src/engine/flow/define.js';
import { createEngine, type Engine } from '../../src/engine/runtime/engine.js';
import type { Store } from '../../src/store/store.js';
import { dialects, freshStore } from './support.js';

for (const { dialect, skip } of await dialects('global tag concurrency')) {
  describe(`tagConcurrency across runs and workers on ${dialect}`, { skip }, () => {
    let store: Store;
    const engines: Engine[] = [];
    before(async () => {
      store = await freshStore(dialect);
    });
    after(async () => {
      for (const engine of engines) await engine.stop({ deadlineMs: 1_000 });
      await store.close();
    });

    it('two engines executing two runs never run more gpu tasks at once than the limit', async () => {
      let inFlight = 0;
      let maxInFlight = 0;
      const ranOn = new Set<string>();
      const make = (engineName: string) => {
        const gpuTask = task({
          tags: ['gpu'],
          run: async () => {
            ranOn.add(engineName);
            inFlight += 1;
            maxInFlight = Math.max(maxInFlight, inFlight);
            await new Promise((resolve) => setTimeout(resolve, 60));
            inFlight -= 1;
          },
        });
        return flow('gpu-bound', { tagConcurrency: { gpu: 1 }, tasks: { a: gpuTask, b: gpuTask, c: task({ run: () => 'cpu' }) } });
      };
      // One run per engine at a time, so each engine takes one of the two runs.
      const first = createEngine({ store, definitions: [make('first')], concurrency: 1, pollIntervalMs: 30 });
      const second = createEngine({ store, definitions: [make('second')], concurrency: 1, pollIntervalMs: 30 });
      engines.push(first, second);
      const runs = [await first.run('gpu-bound'), await first.run('gpu-bound')];
      await first.start();
      await second.start();
      for (const { runId } of runs) assert.equal((await first.waitForRun(runId, { timeoutMs: 20_000 })).state, 'Completed');
      assert.equal(maxInFlight, 1, 'one gpu task at a time across both runs and both workers');
      assert.deepEqual([...ranOn].sort(), ['first', 'second'], 'both workers executed gpu tasks');
    });

    it('a slot whose lease expired (its worker died) is taken over', async () => {
      const repo = engines[0]?.repo;
      assert.ok(repo !== undefined);
      const nowMs = Date.now();
      assert.equal(await repo.acquireTagSlot({ tag: 'tpu', limit: 1, runId: 'dead-run', stepKey: 'x', owner: 'dead', leaseUntilMs: nowMs + 60_000, nowMs }), true);
      assert.equal(await repo.acquireTagSlot({ tag: 'tpu', limit: 1, runId: 'r2', stepKey: 'y', owner: 'live', leaseUntilMs: nowMs + 60_000, nowMs }), false);
      assert.equal(await repo.acquireTagSlot({ tag: 'tpu', limit: 2, runId: 'r2', stepKey: 'y', owner: 'live', leaseUntilMs: nowMs + 60_000, nowMs }), true, 'a higher limit has a free slot');
      const later = nowMs + 120_000;
      assert.equal(await repo.acquireTagSlot({ tag: 'tpu', limit: 1, runId: 'r3', stepKey: 'z', owner: 'live', leaseUntilMs: later + 1_000, nowMs: later }), true);
      await repo.releaseTagSlot('tpu', 'r3', 'z');
      await repo.releaseTagSlot('tpu', 'r2', 'y');
    });
  });
}
