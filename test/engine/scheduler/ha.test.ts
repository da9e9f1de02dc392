import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDeployments, type Deployments } from '../../../src/engine/deployments/deployments.js';
import { alwaysLeader } from '../../../src/engine/scheduler/leader.js';
import { createScheduler, type DeploymentScheduler } from '../../../src/engine/scheduler/scheduler.js';
import { openPostgresStore } from '../../../src/store/postgres/open.js';
import type { PostgresStore } from '../../../src/store/store.js';
import { serviceSkip, SERVICES } from '../../support/services.js';
import { StoreLauncher } from '../deployments/support/store-launcher.js';

const skip = await serviceSkip('postgres', 'HA scheduler on PostgreSQL');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Instance {
  store: PostgresStore;
  launcher: StoreLauncher;
  deployments: Deployments;
  scheduler: DeploymentScheduler;
}

describe('several schedulers on one PostgreSQL schema', { skip }, () => {
  const schema = `kairos_ha_${randomBytes(4).toString('hex')}`;
  const instances: Instance[] = [];

  async function instance(id: string, forceLeader: boolean): Promise<Instance> {
    const store = await openPostgresStore({ connectionString: SERVICES.postgres.url, schema, maxConnections: 4 });
    const launcher = await StoreLauncher.create(store);
    const deployments = createDeployments({ store, launcher, schedulerId: id });
    const scheduler = createScheduler({
      deployments,
      leaderPollMs: 200,
      pollMs: 250,
      ...(forceLeader ? { leaderElector: alwaysLeader() } : {}),
    });
    const created = { store, launcher, deployments, scheduler };
    instances.push(created);
    return created;
  }

  before(async () => {
    await (await instance('setup', false)).launcher.runs();
  });
  after(async () => {
    for (const i of instances) {
      await i.scheduler.stop();
      i.deployments.close();
    }
    const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    for (const i of instances) await i.store.close();
  });

  it('three schedulers that ALL believe they lead still fire each tick exactly once', async () => {
    const [a, b, c] = [await instance('a', true), await instance('b', true), await instance('c', true)];
    const d = await a.deployments.deploy({ kind: 'flow', name: 'tick' }, { name: 'every-second', schedule: { cron: '* * * * * *' }, overlap: 'allow_all' });
    for (const i of [a, b, c]) i.scheduler.start();
    await sleep(3_200);
    for (const i of [a, b, c]) await i.scheduler.stop();
    const runs = await a.launcher.runs(d.id);
    const ticks = runs.map((r) => r.scheduledMs);
    assert.ok(ticks.length >= 2, `expected a few ticks, got ${ticks.length}`);
    assert.equal(new Set(ticks).size, ticks.length, 'no tick started twice');
    const fires = await a.deployments.history(d.name, { limit: 1_000 });
    assert.equal(fires.length, ticks.length);
    assert.ok(fires.every((f) => f.state === 'Started'));
    const byScheduler = new Set(fires.map((f) => f.schedulerId));
    assert.ok(byScheduler.size >= 1);
    await a.deployments.delete(d.name);
  });

  it('exactly one of three leads through the advisory lock; when it stops another takes over and catches up', async () => {
    const group = [await instance('x', false), await instance('y', false), await instance('z', false)];
    const first = group[0];
    assert.ok(first);
    const d = await first.deployments.deploy({ kind: 'flow', name: 'tick' }, { name: 'every-second-ha', schedule: { cron: '* * * * * *' }, overlap: 'allow_all' });
    for (const i of group) i.scheduler.start();
    await sleep(1_500);
    const leaders = group.filter((i) => i.scheduler.isLeader);
    assert.equal(leaders.length, 1, 'one leader');
    const leader = leaders[0];
    assert.ok(leader);
    await leader.scheduler.stop();
    await sleep(1_500);
    const next = group.filter((i) => i.scheduler.isLeader);
    assert.equal(next.length, 1, 'a follower took over');
    await sleep(1_200);
    for (const i of group) await i.scheduler.stop();
    const ticks = (await first.launcher.runs(d.id)).map((r) => r.scheduledMs);
    assert.equal(new Set(ticks).size, ticks.length, 'no tick started twice');
    const sorted = [...ticks].sort((p, q) => p - q);
    for (let i = 1; i < sorted.length; i += 1) {
      assert.equal((sorted[i] ?? 0) - (sorted[i - 1] ?? 0), 1_000, 'no second skipped across the failover (caught up)');
    }
  });
});
