/**
 * NATS benchmark: the Kairos NATS JetStream provider through the worker runtime vs a bare nats.js
 * loop doing the same work — publish to a work-queue stream, consume from a durable pull consumer,
 * ack each message — which is the ceiling a provider on this client can reach. Goal: ≥ 60 % of it.
 * Run: node --import tsx bench/queue/nats.ts [jobs] [natsUrl]   (default 100000, nats://127.0.0.1:4222)
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstream, jetstreamManager, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import { createHeldJobStore } from '../../src/queue/held/index.js';
import { createNatsProvider } from '../../src/queue/providers/nats.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { kairosEnqueueBatch, kairosProcess, reportAgainstBareLoop, type Measurement } from './harness.js';

const jobs = Number(process.argv[2] ?? 100_000);
const url = process.argv[3] ?? 'nats://127.0.0.1:4222';
const runId = randomUUID().slice(0, 8);
const kairosPrefix = `kbench_${runId}`;
const barePrefix = `nbench_${runId}`;
const m: Measurement[] = [];
const dir = mkdtempSync(join(tmpdir(), 'kairos-bench-nats-'));
const store = openSqliteStore({ path: join(dir, 'kairos.db') });

async function benchKairos(concurrencies: readonly number[]): Promise<void> {
  const system = 'kairos-nats';
  const provider = createNatsProvider({ servers: url, prefix: kairosPrefix, store });
  await provider.connect();
  try {
    for (const concurrency of concurrencies) {
      const queue = `c${concurrency}`;
      const enqueue = await kairosEnqueueBatch(provider, queue, jobs);
      if (concurrency === 8) m.push({ system, metric: `enqueue batch (1,000/call), ${jobs} jobs`, value: enqueue, unit: 'jobs/s', higherIsBetter: true });
      m.push({ system, metric: `process ${jobs} no-op jobs, concurrency ${concurrency}`, value: await kairosProcess(provider, queue, jobs, concurrency, { heldJobs: createHeldJobStore(store, { provider: 'nats' }) }), unit: 'jobs/s', higherIsBetter: true });
    }
  } finally {
    await provider.close();
  }
}

async function benchBare(concurrencies: readonly number[]): Promise<void> {
  const system = 'nats.js bare loop';
  const nc = await connect({ servers: url });
  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const encoder = new TextEncoder();
  try {
    for (const concurrency of concurrencies) {
      const stream = `${barePrefix}_c${concurrency}`;
      const subject = `${barePrefix}.c${concurrency}`;
      await jsm.streams.add({ name: stream, subjects: [subject], retention: RetentionPolicy.Workqueue, storage: StorageType.File });
      await jsm.consumers.add(stream, { durable_name: 'bare', ack_policy: AckPolicy.Explicit, max_ack_pending: 10_000 });
      // The same body size as a Kairos job: the JSON of a job with the same payload.
      const body = (i: number) => encoder.encode(JSON.stringify({ id: randomUUID(), queue: 'q', name: 'noop', payload: { i }, attempt: 0, maxAttempts: 3, metadata: {} }));
      let started = performance.now();
      for (let i = 0; i < jobs; i += 1_000) {
        await Promise.all(Array.from({ length: Math.min(1_000, jobs - i) }, (_, k) => js.publish(subject, body(i + k), { msgID: `${i + k}` })));
      }
      if (concurrency === 8) m.push({ system, metric: `enqueue batch (1,000/call), ${jobs} jobs`, value: jobs / ((performance.now() - started) / 1_000), unit: 'jobs/s', higherIsBetter: true });
      const consumer = await js.consumers.get(stream, 'bare');
      started = performance.now();
      const messages = await consumer.consume({ max_messages: concurrency });
      let done = 0;
      for await (const msg of messages) {
        msg.ack();
        done += 1;
        if (done === jobs) break;
      }
      m.push({ system, metric: `process ${jobs} no-op jobs, concurrency ${concurrency}`, value: jobs / ((performance.now() - started) / 1_000), unit: 'jobs/s', higherIsBetter: true });
    }
  } finally {
    for await (const info of jsm.streams.list()) {
      if (info.config.name.startsWith(`${barePrefix}_`) || info.config.name.startsWith(`${kairosPrefix}_`)) await jsm.streams.delete(info.config.name);
    }
    await nc.close();
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
    'nats.js bare loop',
    'queue-nats.md',
    'Queue benchmark — NATS JetStream (Kairos provider vs a bare nats.js loop)',
    `NATS ${url} (the machine's shared nats-server 2.9, file storage); ${jobs} no-op jobs. Kairos runs through its worker runtime (createQueueWorker, held retries in a SQLite store). ` +
      'The bare loop is the ceiling: publish pipelined 1,000 at a time, `consumer.consume({ max_messages: concurrency })`, `msg.ack()` without waiting for the server. ' +
      'Kairos differs on purpose: each ack waits for the server to confirm it (so stats and crash bounds hold), its pull requests are explicit (one long-poll for the first job, then a no-wait pull for the rest), and each job is parsed, run with a lease heartbeat and a timeout, and settled. Goal ≥ 60 % (×0.60).',
  );
} finally {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
