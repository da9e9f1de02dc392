// Fire lateness of deployment schedules under HA scheduling on PostgreSQL.
//   node --import tsx bench/engine/ha-lateness.ts      (KAIROS_BENCH_SECONDS=20, KAIROS_BENCH_DEPLOYMENTS=10)
// Lateness = when the run was started (the launcher's insert, wall clock) − the fire's nominal time.
// Rows: the setTimeout floor of this machine (the anchor), one scheduler process, three HA processes.
// Goal (issue): p99 ≤ 50 ms with three schedulers. Writes bench/results/engine-ha.md.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { createDeployments } from '../../src/engine/deployments/deployments.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { StoreLauncher } from '../../test/engine/deployments/support/store-launcher.js';
import { spawnScheduler, stopScheduler } from '../../test/engine/scheduler/support/ha-cluster.js';
import { SERVICES } from '../../test/support/services.js';

const SECONDS = Number(process.env.KAIROS_BENCH_SECONDS ?? 20);
const DEPLOYMENTS = Number(process.env.KAIROS_BENCH_DEPLOYMENTS ?? 10);
const GOAL_P99_MS = 50;
const url = SERVICES.postgres.url;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Row {
  name: string;
  samples: number;
  p50: number;
  p99: number;
  max: number;
}

function summarise(name: string, values: number[]): Row {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? Number.NaN;
  return { name, samples: sorted.length, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? Number.NaN };
}

/** The anchor: how late a plain setTimeout aimed at each whole second fires on this machine. */
async function timerFloor(): Promise<number[]> {
  const lateness: number[] = [];
  const endMs = Date.now() + SECONDS * 1_000;
  while (Date.now() < endMs) {
    const target = Math.ceil((Date.now() + 1) / 1_000) * 1_000;
    await new Promise<void>((resolve) => setTimeout(() => (lateness.push(Date.now() - target), resolve()), target - Date.now()));
  }
  return lateness;
}

async function schedulerPhase(processes: number): Promise<number[]> {
  const schema = `kairos_bench_ha_${randomBytes(4).toString('hex')}`;
  const store = await openPostgresStore({ connectionString: url, schema, maxConnections: 2 });
  try {
    const launcher = await StoreLauncher.create(store);
    const deployments = createDeployments({ store, launcher });
    for (let i = 0; i < DEPLOYMENTS; i += 1) {
      await deployments.deploy({ kind: 'flow', name: 'noop' }, { name: `tick-${i}`, schedule: { cron: '* * * * * *' }, overlap: 'allow_all' });
    }
    const children = Array.from({ length: processes }, (_, i) => spawnScheduler(url, schema, `bench-${i}`, 500));
    await Promise.all(children.map((c) => c.ready));
    await sleep(2_000); // leadership settled, first ticks done: measure steady state
    const fromMs = Date.now();
    await sleep(SECONDS * 1_000);
    const toMs = Date.now();
    await Promise.all(children.map((c) => stopScheduler(c)));
    deployments.close();
    return (await launcher.runs()).filter((r) => r.scheduledMs >= fromMs && r.scheduledMs <= toMs).map((r) => r.createdAtMs - r.scheduledMs);
  } finally {
    await store.close();
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

const rows = [
  summarise('setTimeout floor (anchor)', await timerFloor()),
  summarise(`1 scheduler process, ${DEPLOYMENTS} per-second deployments`, await schedulerPhase(1)),
  summarise(`3 HA scheduler processes, ${DEPLOYMENTS} per-second deployments`, await schedulerPhase(3)),
];
const anchor = rows[0]?.p99 ?? 1;
const lines = [
  '# Deployment fire lateness under HA scheduling (PostgreSQL)',
  '',
  `Measured ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'CPU'}, Node ${process.version}, ` +
    `PostgreSQL at 127.0.0.1; ${SECONDS} s per row. Command: \`node --import tsx bench/engine/ha-lateness.ts\`.`,
  '',
  'Lateness = run start (launcher insert, wall clock) − nominal fire time. Goal: p99 ≤ 50 ms with 3 schedulers.',
  '',
  '| setup | fires | p50 ms | p99 ms | max ms | p99 / goal | p99 / anchor p99 |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map(
    (r) =>
      `| ${r.name} | ${r.samples} | ${r.p50} | ${r.p99} | ${r.max} | ${(r.p99 / GOAL_P99_MS).toFixed(2)} | ${(r.p99 / Math.max(anchor, 1)).toFixed(1)} |`,
  ),
  '',
];
writeFileSync(new URL('../results/engine-ha.md', import.meta.url), lines.join('\n'));
process.stdout.write(`${lines.join('\n')}\n`);
