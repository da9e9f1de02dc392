import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import type { HeldJobStore, Job } from '../../src/queue/contract.js';
import { DelayDispatcher } from '../../src/queue/delay-dispatcher.js';
import { createHeldJobStore } from '../../src/queue/held/index.js';
import { createSqliteProvider } from '../../src/queue/providers/sqlite.js';
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
      await a.hold(heldJob('j0', 5)); // same id: ignored
      await a.hold(heldJob('future', 10_000));
      assert.equal(await a.countHeld('q'), 41);
      assert.equal(await other.countHeld('q'), 0, 'providers are kept apart');
      assert.equal(await a.nextDueMs(), 1_000);
      const [x, y] = await Promise.all([a.takeDue(5_000, 25), b.takeDue(5_000, 25)]);
      const ids = [...x, ...y].map((j) => j.id);
      assert.equal(ids.length, 40, 'all due jobs taken once between the two');
      assert.equal(new Set(ids).size, 40, 'no job taken twice');
      assert.deepEqual(await a.takeDue(5_000, 100), [], 'claimed jobs are not retaken before the claim expires');
      assert.equal((await a.takeDue(70_000, 100)).length, 41, 'unconfirmed claims are retaken after claimMs (the dispatcher died)');
      await a.confirmHandedOver(ids);
      assert.equal(await a.countHeld('q'), 1);
      assert.equal(x[0]?.lastError ?? y[0]?.lastError, 'earlier', 'the job comes back whole');
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
