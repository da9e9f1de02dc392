import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { BackfillProgress } from '../../../src/engine/deployments/backfill.js';
import { ConfigError } from '../../../src/errors.js';
import { createHarness, type Harness } from './support/harness.js';

const day = 86_400_000;
const T0 = Date.UTC(2025, 5, 1);
const etl = { kind: 'flow', name: 'etl' } as const;

describe('backfill', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('creates one run per past fire, idempotently, with progress', async () => {
    h = await createHarness(T0 + 30 * day);
    const d = await h.deployments.deploy(etl, { name: 'daily', schedule: { cron: '0 2 * * *' }, overlap: 'allow_all' });
    const progress: BackfillProgress[] = [];
    const result = await h.deployments.backfill('daily', { fromMs: T0, toMs: T0 + 10 * day - 1, onProgress: (p) => progress.push(p) });
    assert.deepEqual(result, { done: 10, total: 10, started: 10, buffered: 0, existing: 0, failed: 0 });
    assert.deepEqual(progress.map((p) => p.done), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const again = await h.deployments.backfill('daily', { fromMs: T0 + 5 * day, toMs: T0 + 12 * day - 1 });
    assert.deepEqual([again.total, again.existing, again.started], [7, 5, 2]);
    const runs = await h.launcher.runs(d.id);
    assert.equal(runs.length, 12);
    assert.equal(new Set(runs.map((r) => r.scheduledMs)).size, 12);
    assert.ok(runs.every((r, i) => r.scheduledMs === T0 + i * day + 2 * 3_600_000));
  });

  it('respects maxActiveRuns by queueing the rest, started in order as runs finish', async () => {
    h = await createHarness(T0 + 30 * day);
    const d = await h.deployments.deploy(etl, { name: 'daily', schedule: { cron: '0 2 * * *' }, overlap: 'allow_all', maxActiveRuns: 2 });
    const result = await h.deployments.backfill('daily', { fromMs: T0, toMs: T0 + 6 * day - 1 });
    assert.deepEqual([result.started, result.buffered], [2, 4]);
    for (;;) {
      const active = await h.launcher.activeRuns(d.id);
      assert.ok(active.length <= 2, 'never more than maxActiveRuns at once');
      if (active.length === 0) break;
      await h.launcher.finish(active[0] ?? '');
      await h.deployments.processor.drain(await h.deployments.get('daily'));
    }
    const order = h.fires.filter((f) => f.state === 'Started').map((f) => f.fireMs);
    assert.deepEqual(order, [0, 1, 2, 3, 4, 5].map((i) => T0 + i * day + 2 * 3_600_000));
  });

  it('a skip-policy deployment is backfilled one run at a time', async () => {
    h = await createHarness(T0 + 30 * day);
    await h.deployments.deploy(etl, { name: 'daily', schedule: { cron: '0 2 * * *' } });
    const result = await h.deployments.backfill('daily', { fromMs: T0, toMs: T0 + 3 * day - 1 });
    assert.deepEqual([result.started, result.buffered], [1, 2]);
  });

  it('refuses a range reaching into the future or a deployment without a schedule', async () => {
    h = await createHarness(T0);
    await h.deployments.deploy(etl, { name: 'daily', schedule: { cron: '0 2 * * *' } });
    await h.deployments.deploy(etl, { name: 'adhoc' });
    await assert.rejects(h.deployments.backfill('daily', { fromMs: T0 - day, toMs: T0 + day }), ConfigError);
    await assert.rejects(h.deployments.backfill('adhoc', { fromMs: T0 - day, toMs: T0 }), ConfigError);
  });
});
