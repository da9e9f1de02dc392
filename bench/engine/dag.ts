/**
 * Engine overhead per task: a 1,000-task DAG of no-op tasks — a root, then 9 blocks of a 110-wide
 * fan-out followed by a fan-in join — executed by one worker, on embedded SQLite (a file, WAL) and
 * on PostgreSQL. Overhead per task = wall time of the run / 1,000 (the tasks do nothing). Goal from
 * the brief: ≤ 1 ms per task embedded.
 *
 *   node --import tsx bench/engine/dag.ts [--runs 3] [--concurrency 16] [--no-postgres]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createEngine } from '../../src/engine/runtime/engine.js';
import { flow, task, type TaskDefinition } from '../../src/engine/flow/define.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/store.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const RUNS = option('runs', 3);
const CONCURRENCY = option('concurrency', 16);
const POSTGRES_URL = process.env.KAIROS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const GOAL_MS_PER_TASK = 1;

function buildDag(concurrency: number) {
  const tasks: Record<string, TaskDefinition> = { root: task({ run: () => null }) };
  let previous = 'root';
  for (let block = 0; block < 9; block += 1) {
    const wide: string[] = [];
    for (let i = 0; i < 110; i += 1) {
      const name = `b${block}_${i}`;
      tasks[name] = task({ needs: [previous], run: () => null });
      wide.push(name);
    }
    const join = `join${block}`;
    tasks[join] = task({ needs: wide, run: () => null });
    previous = join;
  }
  return flow('bench-dag', { tasks, concurrency });
}

async function measure(label: string, store: Store, concurrency: number): Promise<{ label: string; taskCount: number; medianMs: number; runsMs: number[] }> {
  const dag = buildDag(concurrency);
  const taskCount = dag.order.length;
  const engine = createEngine({ store, definitions: [dag], pollIntervalMs: 50 });
  await engine.start();
  const runsMs: number[] = [];
  try {
    for (let i = 0; i < RUNS + 1; i += 1) {
      const finished = new Promise<string>((resolve) => {
        const off = engine.events.on('run_state', (event) => {
          if (event.state === 'Completed' || event.state === 'Failed') {
            off();
            resolve(event.state);
          }
        });
      });
      const started = performance.now();
      await engine.run('bench-dag');
      const state = await finished;
      const elapsed = performance.now() - started;
      if (state !== 'Completed') throw new Error(`bench run ended ${state}`);
      if (i > 0) runsMs.push(elapsed); // the first run warms up JIT and statement caches
    }
  } finally {
    await engine.stop();
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { label, taskCount, medianMs: sorted[Math.floor(sorted.length / 2)] ?? NaN, runsMs };
}

const results: Array<Awaited<ReturnType<typeof measure>>> = [];
const dir = mkdtempSync(join(tmpdir(), 'kairos-bench-dag-'));
try {
  const sqlite = openSqliteStore({ path: join(dir, 'bench.db') });
  results.push(await measure(`SQLite (file, WAL), concurrency ${CONCURRENCY}`, sqlite, CONCURRENCY));
  await sqlite.close();
  if (!args.includes('--no-postgres')) {
    const schema = `bench_dag_${randomBytes(4).toString('hex')}`;
    const postgres = await openPostgresStore({ connectionString: POSTGRES_URL, schema, maxConnections: 20 });
    try {
      results.push(await measure(`PostgreSQL, concurrency ${CONCURRENCY}`, postgres, CONCURRENCY));
    } finally {
      await postgres.close();
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await client.end();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`\n1,000-task DAG of no-op tasks (root + 9 × (110-wide fan-out + join)), ${RUNS} measured runs after 1 warm-up, median\n`);
console.log('| store | tasks | run wall time | overhead per task | vs goal (1 ms/task) |');
console.log('|---|---:|---:|---:|---:|');
for (const result of results) {
  const perTask = result.medianMs / result.taskCount;
  console.log(`| ${result.label} | ${result.taskCount} | ${result.medianMs.toFixed(0)} ms | ${perTask.toFixed(3)} ms | ${(perTask / GOAL_MS_PER_TASK).toFixed(2)}× |`);
}
console.log(`\nnode ${process.version}, ${(await import('node:os')).cpus().length} CPUs; runs (ms): ${results.map((r) => `${r.label}: ${r.runsMs.map((ms) => ms.toFixed(0)).join(', ')}`).join('; ')}`);
