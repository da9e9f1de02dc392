import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { flow, task } from '../../src/engine/flow/define.js';
import { createEngine, type Engine } from '../../src/engine/runtime/engine.js';
import { workflow } from '../../src/engine/workflow/define.js';
import type { Store } from '../../src/store/store.js';
import { dialects, freshStore } from './support.js';

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

/** The same definitions for every engine, recording which engine ran each attempt. */
function definitions(ran: string[], engineName: string) {
  return [
    flow('retry-flow', {
      tasks: {
        flaky: task({
          retries: { count: 2, delayMs: 400 },
          run: (ctx) => {
            ran.push(`${engineName}:flaky:${ctx.attempt}`);
            if (ctx.attempt === 1) throw new Error('first attempt fails');
            return 'ok';
          },
        }),
        steady: task({ run: () => 'steady' }),
      },
    }),
    workflow('retry-workflow', async (ctx) =>
      ctx.step(
        'flaky',
        (step) => {
          ran.push(`${engineName}:step:${step.attempt}`);
          if (step.attempt === 1) throw new Error('first attempt fails');
          return step.attempt;
        },
        { retries: { count: 2, delayMs: 400 } },
      ),
    ),
  ];
}

for (const { dialect, skip } of await dialects('durable retries')) {
  describe(`durable retry delays on ${dialect}`, { skip }, () => {
    let store: Store;
    const engines: Engine[] = [];
    before(async () => {
      store = await freshStore(dialect);
    });
    after(async () => {
      for (const engine of engines) await engine.stop({ deadlineMs: 500 });
      await store.close();
    });

    for (const [name, stepKey] of [['retry-flow', 'flaky'], ['retry-workflow', 'flaky#1']] as const) {
      it(`${name}: the run waits in the store, the worker is released, and another worker retries after the delay`, async () => {
        const ran: string[] = [];
        const first = createEngine({ store, definitions: definitions(ran, 'first'), pollIntervalMs: 50, leaseMs: 5_000 });
        const second = createEngine({ store, definitions: definitions(ran, 'second'), pollIntervalMs: 50, leaseMs: 5_000 });
        engines.push(first, second);
        await first.start();
        const { runId } = await first.run(name);

        // During the delay: the step is Retrying with its wake time, the run Waiting and unleased.
        await until(async () => (await first.getRun(runId)).state === 'Waiting', 'the run to wait for its retry');
        const waiting = await first.getRun(runId);
        assert.equal(waiting.leaseOwner, null, 'no worker holds the run during the delay');
        const step = (await first.listSteps(runId)).find((entry) => entry.key === stepKey);
        assert.equal(step?.state, 'Retrying');
        assert.ok(step.wakeMs !== null && waiting.wakeMs !== null && step.wakeMs <= waiting.wakeMs + 1, 'the wake time is recorded');
        assert.equal(step.error?.message, 'first attempt fails');

        // The first worker stops during the delay; the second one resumes the run when it is due.
        await first.stop({ deadlineMs: 500 });
        await second.start();
        const done = await second.waitForRun(runId, { timeoutMs: 10_000 });
        assert.equal(done.state, 'Completed');
        const prefix = name === 'retry-flow' ? 'flaky' : 'step';
        assert.deepEqual(ran, [`first:${prefix}:1`, `second:${prefix}:2`]);
        const finished = (await second.listSteps(runId)).find((entry) => entry.key === stepKey);
        assert.equal(finished?.attempt, 2);
        assert.ok(finished.endedMs !== null && step.wakeMs !== null && finished.endedMs >= step.wakeMs, 'not retried before the delay');
        await second.stop({ deadlineMs: 500 });
      });
    }
  });
}
