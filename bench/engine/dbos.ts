/**
 * A 3-step durable workflow on PostgreSQL: Kairos vs DBOS Transact (@dbos-inc/dbos-sdk v5), same
 * server, separate databases (DBOS in `kairos_bench_dbos`, Kairos in `kairos_bench`, a fresh schema).
 * Each step is a no-op, so the figures are the cost of durability: journaling each step and the run.
 *
 * - latency: one workflow at a time, start → result, p50/p99 over LATENCY_RUNS.
 * - throughput: THROUGHPUT_RUNS workflows started at once (at most IN_FLIGHT outstanding).
 *
 * Both databases are created on first run when missing (the server's `postgres` database is used to
 * create them).
 *   node --import tsx bench/engine/dbos.ts [--latency-runs 300] [--throughput-runs 1000]
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import pg from 'pg';
import { DBOS } from '@dbos-inc/dbos-sdk';
import { createEngine, type Engine } from '../../src/engine/runtime/engine.js';
import { workflow } from '../../src/engine/workflow/define.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const LATENCY_RUNS = option('latency-runs', 300);
const THROUGHPUT_RUNS = option('throughput-runs', 1_000);
const IN_FLIGHT = option('in-flight', 50);
const SERVER = process.env.KAIROS_BENCH_POSTGRES_SERVER ?? 'postgres://postgres@127.0.0.1:5432';
const POOL = 20;

interface Result {
  system: string;
  p50Ms: number;
  p99Ms: number;
  perSecond: number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function drive(system: string, once: (i: number) => Promise<void>): Promise<Result> {
  for (let i = 0; i < 20; i += 1) await once(-1 - i); // warm-up
  const latencies: number[] = [];
  for (let i = 0; i < LATENCY_RUNS; i += 1) {
    const started = performance.now();
    await once(i);
    latencies.push(performance.now() - started);
  }
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < THROUGHPUT_RUNS) {
        const i = next;
        next += 1;
        await once(LATENCY_RUNS + i);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1_000;
  return { system, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99), perSecond: THROUGHPUT_RUNS / seconds };
}

async function benchKairos(): Promise<Result> {
  const schema = `bench_wf_${randomBytes(4).toString('hex')}`;
  const url = `${SERVER}/kairos_bench`;
  const store = await openPostgresStore({ connectionString: url, schema, maxConnections: POOL });
  const threeSteps = workflow('three-steps', async (ctx, input: { i: number }) => {
    const a = await ctx.step('one', () => input.i);
    const b = await ctx.step('two', () => a + 1);
    return ctx.step('three', () => b + 1);
  });
  const engine: Engine = createEngine({ store, definitions: [threeSteps], concurrency: IN_FLIGHT, pollIntervalMs: 1_000 });
  const waiters = new Map<string, () => void>();
  engine.events.on('run_state', (event) => {
    if (event.state === 'Completed') waiters.get(event.runId)?.();
  });
  await engine.start();
  try {
    return await drive('Kairos', async (i) => {
      let done: () => void = () => undefined;
      const finished = new Promise<void>((resolve) => (done = resolve));
      const { runId } = await engine.run('three-steps', { i });
      waiters.set(runId, done);
      // The run may have finished before the waiter was set.
      const run = await Promise.race([finished.then(() => null), engine.getRun(runId)]);
      if (run !== null && run.state !== 'Completed') await finished;
      waiters.delete(runId);
    });
  } finally {
    await engine.stop();
    await store.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  }
}

async function benchDbos(): Promise<Result> {
  DBOS.setConfig({ name: 'kairos-bench', systemDatabaseUrl: `${SERVER}/kairos_bench_dbos`, systemDatabasePoolSize: POOL, logLevel: 'error' });
  const threeSteps = DBOS.registerWorkflow(
    async (i: number) => {
      const a = await DBOS.runStep(() => Promise.resolve(i), { name: 'one' });
      const b = await DBOS.runStep(() => Promise.resolve(a + 1), { name: 'two' });
      return DBOS.runStep(() => Promise.resolve(b + 1), { name: 'three' });
    },
    { name: 'threeSteps' },
  );
  await DBOS.launch();
  try {
    return await drive('DBOS Transact', async (i) => {
      const handle = await DBOS.startWorkflow(threeSteps)(i);
      await handle.getResult();
    });
  } finally {
    await DBOS.shutdown();
  }
}

/** Creates the two benchmark databases when this server does not have them yet. */
async function ensureDatabases(): Promise<void> {
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  try {
    for (const name of ['kairos_bench', 'kairos_bench_dbos']) {
      const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
    }
  } finally {
    await admin.end();
  }
}

await ensureDatabases();
const kairos = await benchKairos();
const dbos = await benchDbos();
console.log(`\n3-step durable workflow on PostgreSQL (no-op steps): ${LATENCY_RUNS} sequential runs for latency, ${THROUGHPUT_RUNS} runs with ${IN_FLIGHT} in flight for throughput\n`);
console.log('| system | p50 latency | p99 latency | throughput | p50 vs DBOS | throughput vs DBOS |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const r of [kairos, dbos]) {
  console.log(`| ${r.system} | ${r.p50Ms.toFixed(2)} ms | ${r.p99Ms.toFixed(2)} ms | ${r.perSecond.toFixed(0)} /s | ${(r.p50Ms / dbos.p50Ms).toFixed(2)}× | ${(r.perSecond / dbos.perSecond).toFixed(2)}× |`);
}
console.log(`\nnode ${process.version}, ${cpus().length} CPUs, PostgreSQL at ${SERVER.replace(/\/\/[^@]*@/, '//')}; pool ${POOL} connections each`);
