import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createDeployments } from '../../../src/engine/deployments/deployments.js';
import { createEventBus } from '../../../src/engine/events/event-bus.js';
import { flow, task } from '../../../src/engine/flow/define.js';
import { createEngine } from '../../../src/engine/runtime/engine.js';
import { createScheduler } from '../../../src/engine/scheduler/scheduler.js';
import { openSqliteStore } from '../../../src/store/sqlite/open.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('deployments on the real engine (embedded store, real clock)', () => {
  it('a per-second buffer_one deployment: the engine runs each start to completion, the buffered start follows the finished run', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    let executions = 0;
    const slow = flow('slow', {
      tasks: {
        work: task({
          run: async () => {
            executions += 1;
            await sleep(1_500);
            return 'done';
          },
        }),
      },
    });
    const engine = createEngine({ store, definitions: [slow], pollIntervalMs: 50 });
    const deployments = createDeployments({ store, launcher: engine });
    const scheduler = createScheduler({ deployments, pollMs: 200 });
    try {
      await engine.start();
      const d = await deployments.deploy(slow, { name: 'slow-every-second', schedule: { cron: '* * * * * *' }, overlap: 'buffer_one' });
      scheduler.start();
      await sleep(4_200);
      await scheduler.stop();
      await sleep(3_500);
      const runs = await engine.listRuns({ deploymentId: d.id });
      const fires = await deployments.history(d.name, { limit: 100 });
      const started = fires.filter((f) => f.state === 'Started');
      assert.ok(fires.some((f) => f.state === 'Skipped'), 'later arrivals are skipped while one is buffered');
      assert.equal(new Set(runs.map((r) => r.id)).size, started.length, 'one engine run per started fire');
      assert.ok(started.length >= 2, `expected the buffered start to follow the first run, got ${started.length}`);
      assert.ok(executions >= 2);
      const states = new Set((await Promise.all(started.map((f) => engine.getRun(f.runId ?? '')))).map((r) => r.state));
      assert.ok(states.has('Completed'));
    } finally {
      await scheduler.stop();
      await engine.stop({ deadlineMs: 3_000 });
      deployments.close();
      await store.close();
    }
  });

  it('emit starts an event-triggered flow and the engine completes it', async () => {
    const store = openSqliteStore({ path: ':memory:' });
    const retrain = flow('retrain', { tasks: { fit: task({ run: (ctx) => ctx.params }) } });
    const engine = createEngine({ store, definitions: [retrain], pollIntervalMs: 50 });
    const deployments = createDeployments({ store, launcher: engine });
    try {
      await engine.start();
      await deployments.deploy(retrain, { name: 'retrain-on-drift', on: { event: 'drift.detected', match: { model: 'demand' }, payloadAs: 'drift' } });
      const bus = createEventBus({ deployments, deliverEvent: (name, payload) => engine.deliverEvent(name, payload) });
      const result = await bus.emit('drift.detected', { model: 'demand', score: 0.41 });
      const runId = result.started[0]?.outcome.runId;
      assert.ok(runId);
      const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
      assert.equal(run.state, 'Completed');
      const again = await bus.emit('drift.detected', { model: 'damage' });
      assert.deepEqual(again.started, []);
    } finally {
      await engine.stop({ deadlineMs: 3_000 });
      deployments.close();
      await store.close();
    }
  });
});
