/**
 * PostgreSQL queue benchmark: Kairos vs graphile-worker 0.16 vs pg-boss 10 on one database, each in
 * its own schema (dropped afterwards). Each is used the fastest normal way its docs describe:
 * graphile-worker's add_jobs() for batches and addJob for single jobs, run() with `concurrency`;
 * pg-boss's insert() for batches and send() for single jobs, work() with batchSize = concurrency.
 * Kairos and graphile-worker each first enqueue 10,000 warm-up jobs in batches, untimed, into a
 * schema of their own that is then dropped: otherwise whichever runs first pays for the process's
 * JIT warm-up in its batch-enqueue figure. (Warming up in the measured schema and truncating it
 * made graphile-worker's batch add a quarter slower, so neither does that.) pg-boss warms up on a
 * queue of its own, a partition of its own, deleted before the measured runs.
 *
 * Run: node --import tsx bench/queue/postgres.ts [jobs] [competitorJobs]   (defaults 100000, 100000)
 * Needs KAIROS_BENCH_POSTGRES_URL or postgres://postgres@127.0.0.1:5432/test.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { makeWorkerUtils, run, type Runner } from 'graphile-worker';
import { graphileLatency, quietGraphile } from './graphile.js';
import PgBoss from 'pg-boss';
import { createPostgresProvider } from '../../src/queue/providers/postgres.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import {
  kairosEnqueueBatch,
  kairosEnqueueSingle,
  kairosLatency,
  kairosProcess,
  machineNote,
  percentile,
  renderTable,
  sleep,
  writeResults,
  type Measurement,
} from './harness.js';

const url = process.env.KAIROS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const jobs = Number(process.argv[2] ?? 100_000);
const competitorJobs = Number(process.argv[3] ?? jobs);
const singleJobs = Math.min(jobs, 10_000);
const latencyJobs = 1_000;
const suffix = randomUUID().slice(0, 6);
const m: Measurement[] = [];
const notes: string[] = [];
const admin = new pg.Pool({ connectionString: url, max: 2 });
const pgBossBatchSize = 100;
const warmUpJobs = 10_000;

const metric = {
  batch: (n: number) => `enqueue batch (1,000/call), ${n} jobs`,
  single: (n: number) => `enqueue single (1/call), ${n} jobs`,
  process: (n: number, c: number) => `process ${n} no-op jobs, concurrency ${c}`,
  p50: `enqueue→start latency p50 (${latencyJobs} jobs, 10 ms apart)`,
  p99: `enqueue→start latency p99 (${latencyJobs} jobs, 10 ms apart)`,
};

/** Enqueues `warmUpJobs` with `enqueue` into a throwaway schema made by `open`, then drops it. */
async function warmUp(schema: string, open: () => Promise<{ enqueue: () => Promise<unknown>; close: () => Promise<void> }>): Promise<void> {
  const system = await open();
  try {
    await system.enqueue();
  } finally {
    await system.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

async function benchKairos(): Promise<void> {
  const warmSchema = `kwarm_${suffix}`;
  await warmUp(warmSchema, async () => {
    const store = await openPostgresStore({ connectionString: url, schema: warmSchema, maxConnections: 20 });
    const provider = createPostgresProvider({ store });
    await provider.connect();
    return {
      enqueue: () => kairosEnqueueBatch(provider, 'warm', warmUpJobs),
      close: async () => {
        await provider.close();
        await store.close();
      },
    };
  });
  const schema = `kbench_${suffix}`;
  const store = await openPostgresStore({ connectionString: url, schema, maxConnections: 20 });
  const provider = createPostgresProvider({ store });
  await provider.connect();
  const system = 'kairos';
  try {
    m.push({ system, metric: metric.batch(jobs), value: await kairosEnqueueBatch(provider, 'c8', jobs), unit: 'jobs/s', higherIsBetter: true });
    m.push({ system, metric: metric.process(jobs, 8), value: await kairosProcess(provider, 'c8', jobs, 8), unit: 'jobs/s', higherIsBetter: true });
    m.push({ system, metric: metric.single(singleJobs), value: await kairosEnqueueSingle(provider, 'c32', singleJobs), unit: 'jobs/s', higherIsBetter: true });
    await kairosEnqueueBatch(provider, 'c32', jobs - singleJobs);
    m.push({ system, metric: metric.process(jobs, 32), value: await kairosProcess(provider, 'c32', jobs, 32), unit: 'jobs/s', higherIsBetter: true });
    const samples = await kairosLatency(provider, 'lat', latencyJobs, 10);
    m.push({ system, metric: metric.p50, value: percentile(samples, 50), unit: 'ms', higherIsBetter: false });
    m.push({ system, metric: metric.p99, value: percentile(samples, 99), unit: 'ms', higherIsBetter: false });
  } finally {
    await provider.close();
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

/** graphile-worker's add_jobs() in batches of 1,000 (jobs/s). */
async function graphileAddBatch(schema: string, count: number, identifier: string): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i += 1_000) {
    const specs = Array.from({ length: Math.min(1_000, count - i) }, (_, k) => ({ identifier, payload: { i: i + k } }));
    await admin.query(`SELECT ${schema}.add_jobs(ARRAY(SELECT json_populate_recordset(null::${schema}.job_spec, $1::json)))`, [JSON.stringify(specs)]);
  }
  return count / ((performance.now() - started) / 1_000);
}

async function benchGraphile(): Promise<void> {
  const warmSchema = `gwarm_${suffix}`;
  await warmUp(warmSchema, async () => {
    const utils = await makeWorkerUtils({ connectionString: url, schema: warmSchema, logger: quietGraphile });
    await utils.migrate();
    return { enqueue: () => graphileAddBatch(warmSchema, warmUpJobs, 'noop'), close: async () => { await utils.release(); } };
  });
  const schema = `gbench_${suffix}`;
  const system = 'graphile-worker 0.16';
  const n = competitorJobs;
  const utils = await makeWorkerUtils({ connectionString: url, schema, logger: quietGraphile });
  await utils.migrate();
  const addBatch = (count: number, identifier: string) => graphileAddBatch(schema, count, identifier);
  const processAll = async (count: number, concurrency: number) => {
    let done = 0;
    let resolveAll: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    const started = performance.now();
    const runner: Runner = await run({
      connectionString: url,
      schema,
      concurrency,
      noHandleSignals: true,
      pollInterval: 1_000,
      logger: quietGraphile,
      taskList: {
        noop: () => {
          done += 1;
          if (done === count) resolveAll();
          return Promise.resolve();
        },
      },
    });
    await all;
    const rate = count / ((performance.now() - started) / 1_000);
    await runner.stop();
    return rate;
  };
  try {
    m.push({ system, metric: metric.batch(n), value: await addBatch(n, 'noop'), unit: 'jobs/s', higherIsBetter: true });
    m.push({ system, metric: metric.process(n, 8), value: await processAll(n, 8), unit: 'jobs/s', higherIsBetter: true });
    const started = performance.now();
    const single = Math.min(n, singleJobs);
    for (let i = 0; i < single; i += 1) await utils.addJob('noop', { i });
    m.push({ system, metric: metric.single(single), value: single / ((performance.now() - started) / 1_000), unit: 'jobs/s', higherIsBetter: true });
    await addBatch(n - single, 'noop');
    m.push({ system, metric: metric.process(n, 32), value: await processAll(n, 32), unit: 'jobs/s', higherIsBetter: true });
    // Latency: worker running, jobs added one at a time.
    const samples = await graphileLatency(url, schema, utils, latencyJobs, 10);
    m.push({ system, metric: metric.p50, value: percentile(samples, 50), unit: 'ms', higherIsBetter: false });
    m.push({ system, metric: metric.p99, value: percentile(samples, 99), unit: 'ms', higherIsBetter: false });
  } finally {
    await utils.release();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

async function benchPgBoss(): Promise<void> {
  const schema = `pbbench_${suffix}`;
  const system = 'pg-boss 10';
  const n = competitorJobs;
  const boss = new PgBoss({ connectionString: url, schema, max: 20, supervise: false, schedule: false });
  boss.on('error', () => undefined);
  await boss.start();
  const insertBatch = async (queue: string, count: number) => {
    const started = performance.now();
    for (let i = 0; i < count; i += 1_000) {
      await boss.insert(Array.from({ length: Math.min(1_000, count - i) }, (_, k) => ({ name: queue, data: { i: i + k } })));
    }
    return count / ((performance.now() - started) / 1_000);
  };
  const processAll = async (queue: string, count: number, concurrency: number) => {
    let done = 0;
    let resolveAll: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    const started = performance.now();
    // pg-boss 10 dropped teamSize: parallelism is one work() per lane. Each lane waits its polling
    // interval (≥ 0.5 s) after every fetch, so batches are its throughput lever.
    const ids: string[] = [];
    for (let lane = 0; lane < concurrency; lane += 1) {
      ids.push(
        await boss.work(queue, { batchSize: pgBossBatchSize, pollingIntervalSeconds: 0.5 }, (batch) => {
          done += batch.length;
          if (done >= count) resolveAll();
          return Promise.resolve();
        }),
      );
    }
    await all;
    const rate = count / ((performance.now() - started) / 1_000);
    for (const id of ids) await boss.offWork(id);
    return rate;
  };
  try {
    for (const q of ['warm', 'c8', 'c32', 'lat']) await boss.createQueue(q);
    await insertBatch('warm', warmUpJobs);
    await boss.purgeQueue('warm');
    await boss.deleteQueue('warm');
    m.push({ system, metric: metric.batch(n), value: await insertBatch('c8', n), unit: 'jobs/s', higherIsBetter: true });
    m.push({ system, metric: metric.process(n, 8), value: await processAll('c8', n, 8), unit: 'jobs/s', higherIsBetter: true });
    const single = Math.min(n, singleJobs);
    const started = performance.now();
    for (let i = 0; i < single; i += 1) await boss.send('c32', { i });
    m.push({ system, metric: metric.single(single), value: single / ((performance.now() - started) / 1_000), unit: 'jobs/s', higherIsBetter: true });
    await insertBatch('c32', n - single);
    m.push({ system, metric: metric.process(n, 32), value: await processAll('c32', n, 32), unit: 'jobs/s', higherIsBetter: true });
    const samples: number[] = [];
    const sentAt = new Map<number, number>();
    const workerId = await boss.work<{ i: number }>('lat', { batchSize: 8, pollingIntervalSeconds: 0.5 }, (batch) => {
      for (const job of batch) samples.push(performance.now() - (sentAt.get(job.data.i) ?? Number.NaN));
      return Promise.resolve();
    });
    for (let i = 0; i < latencyJobs; i += 1) {
      sentAt.set(i, performance.now());
      await boss.send('lat', { i });
      await sleep(10);
    }
    const deadline = Date.now() + 10_000;
    while (samples.length < latencyJobs && Date.now() < deadline) await sleep(20);
    await boss.offWork(workerId);
    m.push({ system, metric: metric.p50, value: percentile(samples, 50), unit: 'ms', higherIsBetter: false });
    m.push({ system, metric: metric.p99, value: percentile(samples, 99), unit: 'ms', higherIsBetter: false });
    notes.push(
      `pg-boss 10: \`concurrency N\` = N work() lanes with batchSize ${pgBossBatchSize} (up to N×${pgBossBatchSize} jobs in flight; with batchSize = N and one lane it managed ~16 jobs/s, because every lane waits its polling interval, ≥ 0.5 s, after each fetch even when the batch was full). Its latency figures are dominated by that polling: it has no wake-up on send to another queue's worker.`,
    );
  } finally {
    await boss.stop({ graceful: false, wait: true });
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  }
}

try {
  const only = process.env.KAIROS_BENCH_ONLY;
  if (only === undefined || only.includes('kairos')) await benchKairos();
  if (only === undefined || only.includes('graphile')) await benchGraphile();
  if (only === undefined || only.includes('pgboss')) await benchPgBoss();
  if (competitorJobs !== jobs) notes.push(`Competitors ran ${competitorJobs} jobs instead of ${jobs} (see the metric names).`);
  const order = (x: Measurement) => x.metric.replace(/\d[\d,]*/g, '#');
  m.sort((a, b) => order(a).localeCompare(order(b)));
  const table = renderTable(m, 'kairos');
  console.log(table);
  const body = `${machineNote()}; PostgreSQL 15 on the same machine, one schema per system.\n\n${table}\n\n${notes.map((n) => `- ${n}`).join('\n')}`;
  console.log(`\nwritten to ${writeResults('queue-postgres.md', 'Queue benchmark — PostgreSQL', body)}`);
} finally {
  await admin.end();
}
