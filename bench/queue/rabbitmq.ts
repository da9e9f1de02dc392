/**
 * RabbitMQ benchmark: the Kairos RabbitMQ provider (quorum queue, persistent messages, publisher
 * confirms) through the worker runtime vs a bare amqplib loop doing the same work — publish with
 * confirms to a quorum queue, consume, ack each message — which is the ceiling a provider on this
 * client can reach. Goal: ≥ 60 % of it. The bare loop runs with prefetch = concurrency and with the
 * widest prefetch Kairos's consumer reaches (KAIROS_WINDOW); ratios are against the latter.
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
import { bareConsume, barePublish } from './amqp-bare.js';
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

/** The widest prefetch Kairos's consumer reaches at these concurrencies: prefetch + concurrency + 64 fetched ahead, grown by doubling. */
const KAIROS_WINDOW = 128;
const BARE = 'amqplib bare loop, prefetch = concurrency';
const BARE_MATCHED = `amqplib bare loop, prefetch ${KAIROS_WINDOW}`;

async function benchBare(concurrencies: readonly number[], system: string, prefetchOf: (concurrency: number) => number): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    for (const concurrency of concurrencies) {
      const queue = `${barePrefix}.c${concurrency}.p${prefetchOf(concurrency)}`;
      const publisher = await conn.createConfirmChannel();
      const enqueue = await barePublish(publisher, queue, jobs);
      if (concurrency === 8) m.push({ system, metric: `enqueue batch (1,000/call), ${jobs} jobs`, value: enqueue, unit: 'jobs/s', higherIsBetter: true });
      const processed = await bareConsume(conn, queue, jobs, prefetchOf(concurrency));
      m.push({ system, metric: `process ${jobs} no-op jobs, concurrency ${concurrency}`, value: processed, unit: 'jobs/s', higherIsBetter: true });
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
    await benchBare([concurrency], BARE, (c) => c);
    await benchBare([concurrency], BARE_MATCHED, () => KAIROS_WINDOW);
  }
  reportAgainstBareLoop(
    m,
    BARE_MATCHED,
    'queue-rabbitmq.md',
    'Queue benchmark — RabbitMQ (Kairos provider vs a bare amqplib loop)',
    `RabbitMQ ${url} (the machine's shared server), quorum queues, persistent messages, publisher confirms per 1,000; ${jobs} no-op jobs. Kairos runs through its worker runtime (createQueueWorker, held retries in a SQLite store), prefetch = concurrency. ` +
      'The bare loop is the ceiling: `consume` and `ack` without waiting. Its throughput grows with its prefetch (the unacked window), so it runs twice: with prefetch = concurrency, and with the widest window Kairos\'s consumer reaches (the provider widens its prefetch by the jobs the worker holds, running or fetched ahead: up to ' + `${KAIROS_WINDOW}` + ' here) — the ratio column is against the latter, the like-for-like ceiling. ' +
      'Kairos differs on purpose: each ack waits for a basic.qos round trip (group-committed) so a crash cannot lose it, acks are coalesced (one multiple basic.ack per run of finished jobs), a job id the caller chose and a dedup key are claimed in the Kairos ledger (SQLite; these jobs have neither), and each job runs with a lease heartbeat and a timeout. Goal ≥ 60 % (×0.60).',
  );
} finally {
  await cleanup();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
