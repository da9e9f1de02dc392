import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { silentLogger } from '../../src/core/logger.js';
import { flow, task } from '../../src/engine/flow/define.js';
import { createEngine, type Engine } from '../../src/engine/runtime/engine.js';
import { createPostgresEngineRepository } from '../../src/engine/store/postgres.js';
import type { RunFinishedEvent } from '../../src/engine/deployments/launcher.js';
import { workflow } from '../../src/engine/workflow/define.js';
import type { PostgresStore } from '../../src/store/store.js';
import { SERVICES, serviceSkip } from '../support/services.js';
import { freshStore } from './support.js';

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i += 1) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function terminateBackend(pid: number): Promise<void> {
  const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
  await admin.connect();
  try {
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await admin.end();
  }
}

describe('PostgreSQL engine notifications', { skip: await serviceSkip('postgres', 'engine LISTEN/NOTIFY') }, () => {
  let store: PostgresStore;
  before(async () => {
    store = (await freshStore('postgres')) as PostgresStore;
  });
  after(async () => {
    await store.close();
  });

  it('re-establishes a LISTEN connection killed by pg_terminate_backend, and NOTIFY wake-ups arrive again', async () => {
    const repo = createPostgresEngineRepository(store);
    let wakeups = 0;
    const listener = await repo.listen({ onWake: () => (wakeups += 1), onRunFinished: () => undefined }, silentLogger, { minBackoffMs: 20 });
    try {
      const channel = `kairos_engine_${store.schema}`;
      await store.pool.query('SELECT pg_notify($1, $2)', [channel, '']);
      await until(() => listener.wakeNotices === 1, 'the first wake-up');
      const firstPid = listener.backendPid;
      assert.ok(firstPid !== null);

      await terminateBackend(firstPid);
      await until(() => listener.connects === 2, 'the listener to reconnect');
      assert.notEqual(listener.backendPid, firstPid);
      // The reconnect itself wakes the worker once (notices sent while down are lost).
      assert.equal(wakeups, 2);

      await store.pool.query('SELECT pg_notify($1, $2)', [channel, '']);
      await until(() => listener.wakeNotices === 2, 'a wake-up over the new connection');
      assert.equal(wakeups, 3);
    } finally {
      await listener.close();
    }
  });

  it("delivers another process's run-finished (and cancel) to onRunFinished", async () => {
    const quick = flow('notify-quick', { tasks: { a: task({ run: () => 1 }) } });
    const parked = workflow('notify-parked', async (ctx) => ctx.waitForSignal('never'));
    // The worker executes the runs; the observer only creates them and listens, like a scheduler process.
    const worker: Engine = createEngine({ store, definitions: [quick, parked], pollIntervalMs: 60_000, leaseMs: 5_000 });
    const observer: Engine = createEngine({ store, definitions: [quick, parked], queues: ['observer-only'], pollIntervalMs: 60_000 });
    await worker.start();
    await observer.start();
    const seen: RunFinishedEvent[] = [];
    const off = observer.onRunFinished((event) => seen.push(event));
    try {
      const { runId } = await observer.run('notify-quick', {}, { deploymentId: 'dep-1' });
      await until(() => seen.some((event) => event.runId === runId), 'the remote run-finished notice');
      assert.deepEqual(seen.find((event) => event.runId === runId), { runId, deploymentId: 'dep-1', state: 'Completed' });

      const waiting = await observer.run('notify-parked');
      await until(async () => (await observer.getRun(waiting.runId)).state === 'Waiting', 'the workflow to wait');
      await worker.cancel(waiting.runId);
      await until(() => seen.some((event) => event.runId === waiting.runId), 'the remote cancel notice');
      assert.equal(seen.find((event) => event.runId === waiting.runId)?.state, 'Cancelled');
      // Each finish is reported once, never echoed back to the process that made it.
      assert.equal(seen.filter((event) => event.runId === runId).length, 1);
    } finally {
      off();
      await observer.stop({ deadlineMs: 500 });
      await worker.stop({ deadlineMs: 500 });
    }
  });

  it("an engine's worker is woken over the re-established connection (poll interval a minute)", async () => {
    const quick = flow('notify-wake', { tasks: { a: task({ run: () => 2 }) } });
    const worker = createEngine({ store, definitions: [quick], pollIntervalMs: 60_000 });
    const creator = createEngine({ store, definitions: [quick] });
    await worker.start();
    try {
      const status = worker.notifications;
      assert.ok(status !== undefined && status.backendPid !== null);
      await terminateBackend(status.backendPid);
      await until(() => status.connects === 2, 'the worker listener to reconnect');
      const before = status.wakeNotices;
      const { runId } = await creator.run('notify-wake');
      const run = await worker.waitForRun(runId, { timeoutMs: 20_000 });
      assert.equal(run.state, 'Completed');
      assert.ok(status.wakeNotices > before, 'woken by NOTIFY, not by the one-minute poll');
    } finally {
      await worker.stop({ deadlineMs: 500 });
    }
  });
});
