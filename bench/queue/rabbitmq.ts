/**
 * RabbitMQ benchmark: the Kairos RabbitMQ provider (quorum queue, persistent messages, publisher
 * confirms) through the worker runtime vs a bare amqplib loop doing the same work — publish with
 * confirms to a quorum queue, consume with prefetch = concurrency, ack each message — which is the
 * ceiling a provider on this client can reach. Goal: ≥ 60 % of it.
 * Run: node --import tsx bench/queue/rabbitmq.ts [jobs] [amqpUrl]   (default 100000, amqp://guest:guest@127.0.0.1:5672)
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { createHeldJobStore } from '../../src/queue/held/index.js';
import { createRabbitmqProvider } from '../../src/queue/providers/rabbitmq.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { kairosEnqueueBatch, kairosProcess, reportAgainstBareLoop, type Measurement } from './harness.js';

const jobs = Number(process.argv[2] ?? 100_000);
const url = process.argv[3] ?? 'amqp://guest:guest@127.0.0.1:5672';
const runId = randomUUID().slice(0, 8);
const kairosPrefix = `kbench_${runId}`;
const barePrefix = `rbench_${runId}`;
const m: Measurement[] = [];
const dir = mkdtempSync(join(tmpdir(), 'kairos-bench-rabbitmq-'));
const store = openSqliteStore({ path: join(dir, 'kairos.db') });

async function benchKairos(concurrencies: readonly number[]): Promise<void> {
  const system = 'kairos-rabbitmq';
  for (const concurrency of concurrencies) {
    // prefetch = concurrency, as the provider's docs advise and as the bare loop does.
    const provider = createRabbitmqProvider({ url, prefix: kairosPrefix, store, queueType: 'quorum', prefetch: concurrency });
    await provider.connect();
    try {
      const queue = `c${concurrency}`;
      await provider.ensureQueue(queue);
      const enqueue = await kairosEnqueueBatch(provider, queue, jobs);
      if (concurrency === 8) m.push({ system, metric: `enqueue batch (1,000/call), ${jobs} jobs`, value: enqueue, unit: 'jobs/s', higherIsBetter: true });
      const heldJobs = createHeldJobStore(store, { provider: 'rabbitmq' });
      m.push({ system, metric: `process ${jobs} no-op jobs, concurrency ${concurrency}`, value: await kairosProcess(provider, queue, jobs, concurrency, { heldJobs }), unit: 'jobs/s', higherIsBetter: true });
    } finally {
      await provider.close();
    }
  }
}

async function benchBare(concurrencies: readonly number[]): Promise<void> {
  const system = 'amqplib bare loop';
  const conn = await amqp.connect(url);
  try {
    for (const concurrency of concurrencies) {
      const queue = `${barePrefix}.c${concurrency}`;
      const publisher = await conn.createConfirmChannel();
      await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
      const body = (i: number) => Buffer.from(JSON.stringify({ id: randomUUID(), queue: 'q', name: 'noop', payload: { i }, attempt: 0, maxAttempts: 3, metadata: {} }));
      let started = performance.now();
      for (let i = 0; i < jobs; i += 1_000) {
        for (let k = 0; k < Math.min(1_000, jobs - i); k += 1) publisher.sendToQueue(queue, body(i + k), { persistent: true, contentType: 'application/json' });
        await publisher.waitForConfirms();
      }
      if (concurrency === 8) m.push({ system, metric: `enqueue batch (1,000/call), ${jobs} jobs`, value: jobs / ((performance.now() - started) / 1_000), unit: 'jobs/s', higherIsBetter: true });
      const consumer = await conn.createChannel();
      await consumer.prefetch(concurrency);
      let done = 0;
      let resolveAll: () => void = () => undefined;
      const all = new Promise<void>((resolve) => (resolveAll = resolve));
      started = performance.now();
      await consumer.consume(queue, (msg) => {
        if (msg === null) return;
        JSON.parse(msg.content.toString('utf8'));
        consumer.ack(msg);
        done += 1;
        if (done === jobs) resolveAll();
      });
      await all;
      m.push({ system, metric: `process ${jobs} no-op jobs, concurrency ${concurrency}`, value: jobs / ((performance.now() - started) / 1_000), unit: 'jobs/s', higherIsBetter: true });
      await consumer.close();
      await publisher.deleteQueue(queue);
      await publisher.close();
    }
  } finally {
    await conn.close();
  }
}

async function cleanup(): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    for (const name of ['c8', 'c32'].flatMap((q) => [`${kairosPrefix}.${q}`, `${kairosPrefix}.${q}.dead`])) {
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteQueue(name).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    await ch.deleteExchange(`${kairosPrefix}.dlx`).catch(() => undefined);
    await ch.close().catch(() => undefined);
  } finally {
    await conn.close();
  }
}

try {
  // Interleaved (Kairos, then the bare loop, per concurrency) so a shared machine's load drifts hit both alike.
  for (const concurrency of [8, 32]) {
    await benchKairos([concurrency]);
    await benchBare([concurrency]);
  }
  reportAgainstBareLoop(
    m,
    'amqplib bare loop',
    'queue-rabbitmq.md',
    'Queue benchmark — RabbitMQ (Kairos provider vs a bare amqplib loop)',
    `RabbitMQ ${url} (the machine's shared server), quorum queues, persistent messages, publisher confirms per 1,000; ${jobs} no-op jobs. Kairos runs through its worker runtime (createQueueWorker, held retries in a SQLite store), prefetch = concurrency. ` +
      'The bare loop is the ceiling: `consume` with prefetch = concurrency and `ack` without waiting. ' +
      'Kairos differs on purpose: each enqueue also claims the job id in the Kairos ledger (SQLite) so one id makes one job, each ack waits for a basic.qos round trip (group-committed) so a crash cannot lose it, and releases the id claim; each job runs with a lease heartbeat and a timeout. Goal ≥ 60 % (×0.60).',
  );
} finally {
  await cleanup();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
