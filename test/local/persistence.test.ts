import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLocalScheduler, type LocalScheduler } from '../../src/local/scheduler.js';
import { createLocalJobRepository } from '../../src/local/repository.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/store.js';
import { FakeClock } from '../support/fake-clock.js';
import { SERVICES, serviceSkip } from '../support/services.js';
import { record, T0 } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kairos-local-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let fileSeq = 0;

/** One "process": a store, a fake clock at `atMs`, and the code registering its persistent jobs. */
function boot(store: Store, atMs: number, register: (s: LocalScheduler) => void): { clock: FakeClock; scheduler: LocalScheduler } {
  const clock = new FakeClock(atMs);
  const scheduler = createLocalScheduler({ clock, store, eventLoopBlockMs: null });
  register(scheduler);
  return { clock, scheduler };
}

function restartSuite(name: string, openStore: () => Promise<Store>, cleanup: (store: Store) => Promise<void>): void {
  describe(name, () => {
    it('resumes from the stored next fire, on the original anchor, with no duplicate run', async () => {
      const runs: number[] = [];
      const register = (s: LocalScheduler): void => {
        s.every('10s', (ctx) => {
          runs.push(ctx.scheduledMs - T0);
        }, { id: 'heartbeat', persistent: true });
      };
      const store1 = await openStore();
      const first = boot(store1, T0, register);
      await first.scheduler.start();
      await first.clock.advance(25_000);
      await first.scheduler.stop();
      assert.deepEqual(runs, [10_000, 20_000]);
      await store1.close();

      // The process comes back 3 s later. every('10s') would anchor at now+10 s = 38 s; the stored anchor keeps 30 s.
      const store2 = await openStore();
      const second = boot(store2, T0 + 28_000, register);
      await second.scheduler.start();
      assert.equal(second.scheduler.getJob('heartbeat')?.nextRunMs, T0 + 30_000);
      assert.equal(second.scheduler.getJob('heartbeat')?.runCount, 2, 'counters come back');
      await second.clock.advance(12_000);
      assert.deepEqual(runs, [10_000, 20_000, 30_000, 40_000]);
      assert.equal(second.scheduler.getJob('heartbeat')?.runCount, 4);
      await second.scheduler.stop();
      await cleanup(store2);
    });

    it('applies the misfire policy to fires missed while down: coalesce → one catch-up run within grace, the rest Missed', async () => {
      const runs: number[] = [];
      const register = (s: LocalScheduler): void => {
        s.every('10s', (ctx) => {
          runs.push(ctx.scheduledMs - T0);
        }, { id: 'metrics', persistent: true, misfireGraceTimeMs: 8_000 });
        s.every('10s', () => undefined, { id: 'strict', persistent: true, misfireGraceTimeMs: 1_000 });
      };
      const store1 = await openStore();
      const first = boot(store1, T0, register);
      await first.scheduler.start();
      await first.clock.advance(10_000);
      await first.scheduler.stop();
      await store1.close();
      assert.deepEqual(runs, [10_000]);

      // Down from 10 s to 95 s: fires 20 … 90 s were missed; 90 s is 5 s late.
      const store2 = await openStore();
      const second = boot(store2, T0 + 95_000, register);
      const missed = record(second.scheduler, 'job_missed');
      await second.scheduler.start();
      await second.clock.advance(0);
      assert.deepEqual(runs, [10_000, 90_000], 'one catch-up run: the latest fire, within the 8 s grace');
      const metricsMissed = missed.filter((m) => m.payload.jobId === 'metrics').map((m) => [m.payload.count, m.payload.coalesced]);
      assert.deepEqual(metricsMissed, [[7, false]], '20 … 80 s were beyond grace');
      const strictMissed = missed.filter((m) => m.payload.jobId === 'strict').map((m) => [m.payload.count, m.payload.coalesced]);
      assert.deepEqual(strictMissed, [[8, false]], 'with a 1 s grace every fire of the outage is Missed, and counted');
      assert.equal(second.scheduler.getJob('strict')?.missedCount, 8);
      assert.equal(second.scheduler.getJob('strict')?.state, 'Missed');
      assert.equal(second.scheduler.getJob('metrics')?.nextRunMs, T0 + 100_000);
      await second.scheduler.stop();

      const rows = await createLocalJobRepository(store2).loadAll();
      const strict = rows.find((r) => r.id === 'strict');
      assert.equal(strict?.missedCount, 8);
      assert.equal(strict?.nextRunMs, T0 + 100_000);
      await cleanup(store2);
    });

    it('keeps pause across restarts, forgets removed jobs, and does not re-run a finished one-shot job', async () => {
      let onceRuns = 0;
      const register = (s: LocalScheduler): void => {
        s.every('10s', () => undefined, { id: 'paused-one', persistent: true });
        s.every('10s', () => undefined, { id: 'removed-one', persistent: true });
        s.at(T0 + 5_000, () => {
          onceRuns += 1;
        }, { id: 'one-shot', persistent: true });
      };
      const store1 = await openStore();
      const first = boot(store1, T0, register);
      await first.scheduler.start();
      first.scheduler.pauseJob('paused-one');
      first.scheduler.removeJob('removed-one');
      await first.clock.advance(6_000);
      assert.equal(onceRuns, 1);
      await first.scheduler.stop();
      await store1.close();

      const store2 = await openStore();
      const second = boot(store2, T0 + 60_000, register);
      await second.scheduler.start();
      await second.clock.advance(0);
      assert.equal(second.scheduler.getJob('paused-one')?.paused, true);
      assert.equal(second.scheduler.getJob('removed-one')?.runCount, 0, 'a removed job starts fresh when the code adds it again');
      assert.equal(second.scheduler.getJob('one-shot'), undefined);
      assert.equal(onceRuns, 1, 'the one-shot job ran once across both processes');
      await second.scheduler.stop();
      await cleanup(store2);
    });

    it('a persistent job added after start() also finds its row; a changed schedule follows the code', async () => {
      const store1 = await openStore();
      const first = boot(store1, T0, (s) => s.every('10s', () => undefined, { id: 'late-add', persistent: true }));
      await first.scheduler.start();
      await first.clock.advance(10_000);
      await first.scheduler.stop();
      await store1.close();

      const store2 = await openStore();
      const second = boot(store2, T0 + 12_000, () => undefined);
      await second.scheduler.start();
      second.scheduler.every('1m', () => undefined, { id: 'late-add', persistent: true });
      const status = second.scheduler.getJob('late-add');
      assert.equal(status?.runCount, 1, 'counters restored');
      assert.equal(status?.nextRunMs, T0 + 72_000, 'new interval: computed from now');
      await second.scheduler.stop();
      await cleanup(store2);
    });
  });
}

restartSuite(
  'persistent local jobs on SQLite (restart = a new scheduler on the same file)',
  () => {
    const path = join(dir, `kairos-${fileSeq}.db`);
    return Promise.resolve(openSqliteStore({ path }));
  },
  async (store) => {
    await store.close();
    fileSeq += 1;
  },
);

const pgSkip = await serviceSkip('postgres', 'local lane persistence on PostgreSQL');
const schema = `local_${randomBytes(4).toString('hex')}`;
describe('on PostgreSQL', { skip: pgSkip }, () => {
  after(async () => {
    const store = await openPostgresStore({ connectionString: SERVICES.postgres.url, schema });
    await store.pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await store.close();
  });
  restartSuite(
    'persistent local jobs on PostgreSQL',
    () => openPostgresStore({ connectionString: SERVICES.postgres.url, schema }),
    async (store) => {
      if (store.dialect === 'postgres') await store.pool.query('DELETE FROM local_jobs');
      await store.close();
    },
  );
});
