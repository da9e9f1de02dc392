/**
 * Redis queue benchmark: the Kairos Redis Streams provider through the worker runtime vs BullMQ, on
 * the same Redis, no-op jobs. Goal: ≥ 1.2× BullMQ's processing throughput, p99 latency no worse.
 * Run: node --import tsx bench/queue/redis.ts [jobs] [redisUrl]   (default 100000, redis://127.0.0.1:6379)
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { createRedisProvider } from '../../src/queue/providers/redis.js';
import { deleteRedisPrefixes } from '../../test/queue/providers/redis-support.js';
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

const jobs = Number(process.argv[2] ?? 100_000);
const url = process.argv[3] ?? 'redis://127.0.0.1:6379';
const runId = randomUUID().slice(0, 8);
const kairosPrefix = `kbench_${runId}`;
const bullPrefix = `bbench_${runId}`;
const m: Measurement[] = [];
const singleJobs = Math.min(jobs, 20_000);

async function benchKairos(): Promise<void> {
  const system = 'kairos-redis';
  const provider = createRedisProvider({ url, prefix: kairosPrefix });
  await provider.connect();
  try {
    m.push({ system, metric: `enqueue batch (1,000/call), ${jobs} jobs`, value: await kairosEnqueueBatch(provider, 'c8', jobs), unit: 'jobs/s', higherIsBetter: true });
    m.push({ system, metric: `process ${jobs} no-op jobs, concurrency 8`, value: await kairosProcess(provider, 'c8', jobs, 8), unit: 'jobs/s', higherIsBetter: true });
    m.push({ system, metric: `enqueue single (1/call), ${singleJobs} jobs`, value: await kairosEnqueueSingle(provider, 'c32', singleJobs), unit: 'jobs/s', higherIsBetter: true });
    await kairosEnqueueBatch(provider, 'c32', jobs - singleJobs);
    m.push({ system, metric: `process ${jobs} no-op jobs, concurrency 32`, value: await kairosProcess(provider, 'c32', jobs, 32), unit: 'jobs/s', higherIsBetter: true });
    const samples = await kairosLatency(provider, 'lat', 1_000, 10);
    m.push({ system, metric: 'enqueue→start latency p50 (1,000 jobs, 10 ms apart)', value: percentile(samples, 50), unit: 'ms', higherIsBetter: false });
    m.push({ system, metric: 'enqueue→start latency p99 (1,000 jobs, 10 ms apart)', value: percentile(samples, 99), unit: 'ms', higherIsBetter: false });
  } finally {
    await provider.close();
  }
}

async function bullProcess(name: string, count: number, concurrency: number): Promise<number> {
  let done = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const started = performance.now();
  // BullMQ's fastest normal setup: completed/failed jobs removed, no events stream trimming cost kept.
  const worker = new Worker(
    name,
    () => {
      done += 1;
      if (done === count) resolveAll();
      return Promise.resolve();
    },
    { connection: { url }, prefix: bullPrefix, concurrency, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } },
  );
  await all;
  const elapsedMs = performance.now() - started;
  await worker.close();
  return count / (elapsedMs / 1_000);
}

async function bullAddBatch(queue: Queue, count: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < count; i += 1_000) {
    await queue.addBulk(Array.from({ length: Math.min(1_000, count - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
  }
  return count / ((performance.now() - started) / 1_000);
}

async function benchBull(): Promise<void> {
  const system = 'bullmq';
  const c8 = new Queue('c8', { connection: { url }, prefix: bullPrefix });
  const c32 = new Queue('c32', { connection: { url }, prefix: bullPrefix });
  const lat = new Queue('lat', { connection: { url }, prefix: bullPrefix });
  try {
    m.push({ system, metric: `enqueue batch (1,000/call), ${jobs} jobs`, value: await bullAddBatch(c8, jobs), unit: 'jobs/s', higherIsBetter: true });
    m.push({ system, metric: `process ${jobs} no-op jobs, concurrency 8`, value: await bullProcess('c8', jobs, 8), unit: 'jobs/s', higherIsBetter: true });
    const started = performance.now();
    for (let i = 0; i < singleJobs; i += 1) await c32.add('noop', { i });
    m.push({ system, metric: `enqueue single (1/call), ${singleJobs} jobs`, value: singleJobs / ((performance.now() - started) / 1_000), unit: 'jobs/s', higherIsBetter: true });
    await bullAddBatch(c32, jobs - singleJobs);
    m.push({ system, metric: `process ${jobs} no-op jobs, concurrency 32`, value: await bullProcess('c32', jobs, 32), unit: 'jobs/s', higherIsBetter: true });
    const samples: number[] = [];
    const sentAt = new Map<number, number>();
    const worker = new Worker(
      'lat',
      (job) => {
        samples.push(performance.now() - (sentAt.get((job.data as { i: number }).i) ?? Number.NaN));
        return Promise.resolve();
      },
      { connection: { url }, prefix: bullPrefix, concurrency: 8, removeOnComplete: { count: 0 } },
    );
    await worker.waitUntilReady();
    for (let i = 0; i < 1_000; i += 1) {
      sentAt.set(i, performance.now());
      await lat.add('ping', { i });
      await sleep(10);
    }
    const deadline = Date.now() + 10_000;
    while (samples.length < 1_000 && Date.now() < deadline) await sleep(20);
    await worker.close();
    m.push({ system, metric: 'enqueue→start latency p50 (1,000 jobs, 10 ms apart)', value: percentile(samples, 50), unit: 'ms', higherIsBetter: false });
    m.push({ system, metric: 'enqueue→start latency p99 (1,000 jobs, 10 ms apart)', value: percentile(samples, 99), unit: 'ms', higherIsBetter: false });
  } finally {
    await Promise.all([c8.close(), c32.close(), lat.close()]);
  }
}

try {
  await benchKairos();
  await benchBull();
  const table = renderTable(m, 'bullmq');
  console.log(table);
  const path = writeResults(
    'queue-redis.md',
    'Queue benchmark — Redis (Kairos Redis Streams provider vs BullMQ)',
    `${machineNote()}; Redis ${url} (the machine's shared test server, appendonly off), same Redis for both; ${jobs} no-op jobs. Kairos runs through its worker runtime (createQueueWorker).\n\n${table}`,
  );
  console.log(`\nwritten to ${path}`);
} finally {
  await deleteRedisPrefixes([kairosPrefix, bullPrefix], url);
}
