import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { createDeployments } from '../../src/engine/deployments/deployments.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { recordSkip, serviceSkip, SERVICES } from '../support/services.js';
import { StoreLauncher } from '../engine/deployments/support/store-launcher.js';
import { spawnScheduler, stopScheduler, type SchedulerChild } from '../engine/scheduler/support/ha-cluster.js';

const chaos = process.env.KAIROS_CHAOS === '1';
if (!chaos) recordSkip('HA failover chaos: set KAIROS_CHAOS=1 to run (spawns 3 scheduler processes, kill -9 every 10 s)');
const skip = chaos ? await serviceSkip('postgres', 'HA failover chaos') : 'KAIROS_CHAOS=1 not set (spawns processes and kills them; opt-in)';

const DURATION_S = Number(process.env.KAIROS_HA_SECONDS ?? 60);
const LEADER_POLL_MS = 500;
/**
 * The documented bound: a kill -9'd leader's session ends at once, a follower takes the lock within
 * leaderPollMs, then its first tick starts every fire since the stored cursor. The slack covers the
 * follower's tick and a busy 2-core CI machine.
 */
const FAILOVER_BOUND_MS = LEADER_POLL_MS + 1_500;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('HA scheduling: three processes on PostgreSQL, the leader killed every 10 s', { skip, timeout: (DURATION_S + 120) * 1_000 }, () => {
  const schema = `kairos_chaos_${randomBytes(4).toString('hex')}`;
  const children: SchedulerChild[] = [];
  const everyChild: SchedulerChild[] = [];
  after(async () => {
    await Promise.all(children.map((c) => stopScheduler(c, 'SIGKILL')));
    const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  });

  it(`fires every second exactly once for ${DURATION_S} s; late fires only inside a failover window, all caught up`, async () => {
    const store = await openPostgresStore({ connectionString: SERVICES.postgres.url, schema, maxConnections: 2 });
    const launcher = await StoreLauncher.create(store);
    const deployments = createDeployments({ store, launcher });
    const d = await deployments.deploy(
      { kind: 'flow', name: 'heartbeat' },
      { name: 'per-second', schedule: { cron: '* * * * * *' }, overlap: 'allow_all', catchupWindowMs: '60s' },
    );
    const startedMs = Date.now();
    for (const id of ['s1', 's2', 's3']) children.push(spawnScheduler(SERVICES.postgres.url, schema, id, LEADER_POLL_MS));
    everyChild.push(...children);
    await Promise.all(children.map((c) => c.ready));
    const kills: number[] = [];
    let generation = 0;
    while (Date.now() - startedMs < DURATION_S * 1_000) {
      await sleep(10_000);
      const leader = children.find((c) => c.leader && c.child.exitCode === null && c.child.signalCode === null);
      if (leader === undefined) continue;
      kills.push(Date.now());
      await stopScheduler(leader, 'SIGKILL');
      children.splice(children.indexOf(leader), 1);
      generation += 1;
      const replacement = spawnScheduler(SERVICES.postgres.url, schema, `${leader.id}-r${generation}`, LEADER_POLL_MS);
      children.push(replacement);
      everyChild.push(replacement);
    }
    const endMs = Date.now();
    await sleep(FAILOVER_BOUND_MS + 1_000);
    await Promise.all(children.map((c) => stopScheduler(c)));
    children.length = 0;

    const runs = await launcher.runs(d.id);
    const ticks = runs.map((r) => r.scheduledMs);
    assert.equal(new Set(ticks).size, ticks.length, 'zero duplicate fires');
    const fires = await deployments.history(d.name, { limit: 100_000 });
    assert.equal(fires.filter((f) => f.state === 'Missed').length, 0, 'nothing older than the catch-up window');
    const firstMs = Math.min(...ticks);
    const expected = Math.floor((endMs - firstMs) / 1_000);
    const missing: number[] = [];
    for (let t = firstMs; t <= firstMs + expected * 1_000; t += 1_000) if (!ticks.includes(t)) missing.push(t);
    assert.deepEqual(missing, [], 'every second between the first fire and the end was started');
    // A failover window opens at a kill (or at a leader change nobody asked for: a leader that lost
    // its connection steps down) and closes when the new leader has started what fell in it.
    const acquisitions = everyChild.flatMap((c) => c.acquiredAtMs).sort((p, q) => p - q);
    const spontaneous = acquisitions.length - 1 - kills.length;
    const late = runs.filter((r) => r.createdAtMs - r.scheduledMs > FAILOVER_BOUND_MS);
    // Late only because nobody led: the fire fell shortly before a leader took over, which started it at once.
    const explained = (r: { scheduledMs: number; createdAtMs: number }) =>
      acquisitions.some((a) => r.scheduledMs >= a - FAILOVER_BOUND_MS - 1_000 && r.scheduledMs <= a && r.createdAtMs <= a + FAILOVER_BOUND_MS);
    const slowFailovers = kills.filter((k) => !acquisitions.some((a) => a >= k && a <= k + FAILOVER_BOUND_MS));
    assert.deepEqual(slowFailovers.map((k) => new Date(k).toISOString()), [], `a new leader within ${FAILOVER_BOUND_MS} ms of every kill`);
    const unexplained = late.filter((r) => !explained(r));
    assert.deepEqual(
      unexplained.map((r) => `${new Date(r.scheduledMs).toISOString()} late ${r.createdAtMs - r.scheduledMs} ms`),
      [],
      'late fires only inside a failover window',
    );
    const lateness = runs.map((r) => r.createdAtMs - r.scheduledMs).sort((a, b) => a - b);
    process.stdout.write(
      `# HA chaos: ${DURATION_S}s, ${kills.length} leader kills, ${spontaneous} other leader changes, ${runs.length} fires, 0 duplicates, 0 missed, ` +
        `${late.length} fires later than ${FAILOVER_BOUND_MS} ms (all in failover windows), max lateness ${lateness.at(-1)} ms, ` +
        `p99 ${lateness[Math.floor(lateness.length * 0.99)]} ms\n`,
    );
    assert.ok(kills.length >= Math.floor(DURATION_S / 10) - 1, 'the leader was killed as planned');
    deployments.close();
    await store.close();
  });
});
