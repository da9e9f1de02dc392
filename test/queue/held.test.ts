import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import type { Clock } from '../../src/core/clock.js';
import type { HeldJobStore, Job, QueueProvider } from '../../src/queue/contract.js';
import { DelayDispatcher } from '../../src/queue/delay-dispatcher.js';
import { createHeldJobStore } from '../../src/queue/held/index.js';
import { createSqliteProvider } from '../../src/queue/providers/sqlite.js';
import { createQueueWorker } from '../../src/queue/worker.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/store.js';
import { SERVICES, serviceSkip } from '../support/services.js';

const dir = mkdtempSync(join(tmpdir(), 'kairos-held-'));
const stores: Store[] = [];
after(async () => {
  for (const store of stores) await store.close();
  rmSync(dir, { recursive: true, force: true });
  const pgStores = stores.filter((s) => s.dialect === 'postgres');
  if (pgStores.length === 0) return;
  const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
  await admin.connect();
  for (const s of pgStores) await admin.query(`DROP SCHEMA IF EXISTS ${s.schema} CASCADE`);
  await admin.end();
});

function fixedClock(nowMs: number): Clock {
  return { now: () => nowMs, setTimer: (fn, ms) => setTimeout(fn, ms), clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout) };
}

function heldJob(id: string, runAtMs: number): Job {
  return {
    id,
    queue: 'q',
    name: 'k',
    payload: { id },
    dedupKey: null,
    priority: 0,
    runAtMs,
    attempt: 1,
    maxAttempts: 3,
    backoff: null,
    timeoutMs: null,
    metadata: {},
    createdAtMs: 0,
    lastError: 'earlier',
  };
}

function heldStoreSuite(dialect: 'sqlite' | 'postgres', open: () => Promise<Store>, skip: string | false): void {
  describe(`held job store: ${dialect}`, { skip }, () => {
    it('holds idempotently, reports the next due time, and never hands one job to two takers', async () => {
      const store = await open();
      stores.push(store);
      const a: HeldJobStore = createHeldJobStore(store, { provider: 'nats', claimMs: 60_000 });
      const b: HeldJobStore = createHeldJobStore(store, { provider: 'nats', claimMs: 60_000 });
      const other = createHeldJobStore(store, { provider: 'kafka' });
      for (let i = 0; i < 40; i += 1) await a.hold(heldJob(`j${i}`, 1_000 + i));
      assert.equal(await a.hold(heldJob('j0', 5)), null, 'same id, never taken: the first hold is kept');
      await a.hold(heldJob('future', 10_000));
      assert.equal(await a.countHeld('q'), 41);
      assert.equal(await other.countHeld('q'), 0, 'providers are kept apart');
      assert.equal(await a.nextDueMs(), 1_000);
      const [x, y] = await Promise.all([a.takeDue(5_000, 25), b.takeDue(5_000, 25)]);
      const ids = [...x, ...y].map((held) => held.job.id);
      assert.equal(ids.length, 40, 'all due jobs taken once between the two');
      assert.equal(new Set(ids).size, 40, 'no job taken twice');
      assert.deepEqual(await a.takeDue(5_000, 100), [], 'claimed jobs are not retaken before the claim expires');
      assert.equal((await a.takeDue(70_000, 100)).length, 41, 'unconfirmed claims are retaken after claimMs (the dispatcher died)');
      assert.equal(await a.countHeld('q'), 41);
      const retaken = await a.takeDue(200_000, 100);
      await a.confirmHandedOver([...x, ...y]);
      assert.equal(await a.countHeld('q'), 41, 'a confirm for a generation that was retaken since deletes nothing');
      await a.confirmHandedOver(retaken.filter((held) => held.job.id !== 'future'));
      assert.equal(await a.countHeld('q'), 1);
      assert.equal(x[0]?.job.lastError ?? y[0]?.job.lastError, 'earlier', 'the job comes back whole');
    });

    it('a job handed over, delivered, failed and held again before the confirm stays held (the late confirm leaves it)', async () => {
      const store = await open();
      stores.push(store);
      const held = createHeldJobStore(store, { provider: 'nats' });
      await held.hold(heldJob('r', 1_000));
      const [taken] = await held.takeDue(1_000, 10);
      assert.ok(taken !== undefined);
      // The broker delivered the hand-over (attempt 2) and it failed before the dispatcher confirmed.
      const again = await held.hold({ ...heldJob('r', 5_000), attempt: 2, lastError: 'second failure' });
      assert.ok(again !== null, 'the taken row is replaced by the new hold');
      await held.confirmHandedOver([taken]);
      assert.equal(await held.countHeld('q'), 1, 'the late confirm did not delete the new hold');
      assert.equal(await held.nextDueMs(), 5_000);
      const [next] = await held.takeDue(5_000, 10);
      assert.equal(next?.job.attempt, 2);
      assert.equal(next?.job.lastError, 'second failure');
    });

    it('a pinned hold is not taken until released (or until the claim time passes, if its holder died)', async () => {
      const store = await open();
      stores.push(store);
      const held = createHeldJobStore(store, { provider: 'rabbitmq', claimMs: 60_000, clock: fixedClock(1_000) });
      const pinned = await held.hold(heldJob('p', 1_000), { pinned: true });
      assert.ok(pinned !== null);
      assert.deepEqual(await held.takeDue(2_000, 10), [], 'pinned: not handed over while the delivery is being acked');
      await held.release(pinned);
      assert.deepEqual((await held.takeDue(2_000, 10)).map((h) => h.job.id), ['p']);
      const orphan = await held.hold(heldJob('o', 1_000), { pinned: true });
      assert.ok(orphan !== null);
      assert.deepEqual(await held.takeDue(60_000, 10), []);
      assert.deepEqual((await held.takeDue(61_000, 10)).map((h) => h.job.id), ['o'], 'a pin whose holder died expires');
    });
  });
}

heldStoreSuite('sqlite', () => Promise.resolve(openSqliteStore({ path: join(dir, `h${randomUUID()}.db`) })), false);
heldStoreSuite(
  'postgres',
  () => openPostgresStore({ connectionString: SERVICES.postgres.url, schema: `kheld_${randomUUID().slice(0, 8)}` }),
  await serviceSkip('postgres', 'held job store: postgres'),
);

describe('DelayDispatcher', () => {
  it('hands a held job to the provider when due, with its attempt, and survives a restart of the dispatcher', async () => {
    const store = openSqliteStore({ path: join(dir, 'dispatch.db') });
    stores.push(store);
    const provider = createSqliteProvider({ store });
    const held = createHeldJobStore(store, { provider: 'sqlite' });
    await held.hold(heldJob('later', Date.now() + 300));
    const first = new DelayDispatcher({ heldJobs: held, provider });
    first.start();
    await first.stop(); // "crash" before it was due: the job stays in the store
    assert.equal(await held.countHeld('q'), 1);
    const second = new DelayDispatcher({ heldJobs: held, provider });
    second.start();
    const leases = await provider.fetch('q', { max: 1, leaseMs: 5_000, waitMs: 10_000 });
    await second.stop();
    assert.equal(leases[0]?.job.id, 'later');
    assert.equal(leases[0]?.job.attempt, 2, 'attempt 1 was made before it was held');
    assert.equal(leases[0]?.job.lastError, 'earlier');
    assert.equal(await held.countHeld('q'), 0);
    await provider.close();
  });
});

describe('held retries and hand-overs racing a broker', () => {
  it('a confirm that arrives after the handed-over job was delivered, failed and held again does not lose the job', async () => {
    const store = openSqliteStore({ path: join(dir, 'race-confirm.db') });
    stores.push(store);
    const provider = createSqliteProvider({ store });
    const held = createHeldJobStore(store, { provider: 'sqlite' });
    await held.hold(heldJob('raced', Date.now() - 1));
    // The broker delivers the hand-over at once and the handler fails again, before enqueue even returns.
    const racing: QueueProvider = {
      ...provider,
      async enqueue(jobs) {
        const results = await provider.enqueue(jobs);
        const [lease] = await provider.fetch('q', { max: 1, leaseMs: 5_000, waitMs: 0 });
        assert.ok(lease !== undefined);
        await held.hold({ ...lease.job, runAtMs: Date.now() + 60_000, lastError: 'failed again' }, { pinned: true });
        await provider.ack(lease);
        return results;
      },
    };
    assert.equal(await new DelayDispatcher({ heldJobs: held, provider: racing }).dispatchDue(), 1);
    assert.equal(await held.countHeld('q'), 1, 'the new hold survived the late confirm');
    await provider.close();
  });

  it('a retry held while its delivery is still being acked is handed over only after the ack (a broker deduplicating by id would drop it)', async () => {
    const store = openSqliteStore({ path: join(dir, 'race-ack.db') });
    stores.push(store);
    const sqlite = createSqliteProvider({ store });
    const held = createHeldJobStore(store, { provider: 'sqlite' });
    const dispatcher = new DelayDispatcher({ heldJobs: held, provider: sqlite, recheckIntervalMs: 50 });
    let handedDuringAck = -1;
    // Like RabbitMQ or Kafka: no native delay, and an enqueue of a job id that is still active is a duplicate.
    const slowAcks: QueueProvider = {
      ...sqlite,
      capabilities: { ...sqlite.capabilities, nativeDelay: false },
      async ack(lease) {
        if (handedDuringAck === -1) {
          await new Promise((resolve) => setTimeout(resolve, 40)); // the retry is due now; the ack is slow
          handedDuringAck = await dispatcher.dispatchDue();
        }
        await sqlite.ack(lease);
      },
    };
    const attempts: number[] = [];
    let completed: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (completed = resolve));
    const worker = createQueueWorker({
      provider: slowAcks,
      queue: 'q',
      heldJobs: held,
      dispatchHeldJobs: false,
      pollWaitMs: 50,
      handlers: {
        k: (_payload, context) => {
          attempts.push(context.attempt);
          if (context.attempt === 1) throw new Error('first attempt fails');
          completed();
        },
      },
    });
    await sqlite.enqueue([{ queue: 'q', name: 'k', payload: {}, id: 'acked-slowly', backoff: { type: 'fixed', delayMs: 10 } }]);
    await worker.start();
    dispatcher.start();
    const outcome = await Promise.race([done.then(() => 'completed'), new Promise((resolve) => setTimeout(() => resolve('lost'), 3_000))]);
    await dispatcher.stop();
    await worker.stop();
    await sqlite.close();
    assert.equal(handedDuringAck, 0, 'nothing was handed over while the delivery was being acked');
    assert.equal(outcome, 'completed', 'the retry ran after the ack');
    assert.deepEqual(attempts, [1, 2]);
  });
});
