/**
 * Probe: where a no-op job's time goes on RabbitMQ — Kairos (provider + worker runtime) vs a bare
 * amqplib loop at the same prefetch, alternating rounds. For each: wall-clock throughput and Node CPU
 * µs per job (process.cpuUsage). Run with `--cpu-prof` to see the Kairos path function by function.
 * Run: node --import tsx bench/queue/probes/rabbitmq-cost.ts [jobs] [concurrency] [rounds]
 */
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import amqp from 'amqplib';
import { createHeldJobStore } from '../../../src/queue/held/index.js';
import { createRabbitmqProvider } from '../../../src/queue/providers/rabbitmq.js';
import { openSqliteStore } from '../../../src/store/sqlite/open.js';
import { bareConsume, barePublish } from '../amqp-bare.js';
import { kairosEnqueueBatch, kairosProcess } from '../harness.js';

const jobs = Number(process.argv[2] ?? 50_000);
const concurrency = Number(process.argv[3] ?? 8);
const rounds = Number(process.argv[4] ?? 3);
const url = 'amqp://guest:guest@127.0.0.1:5672';
const prefix = `kprobe_${randomUUID().slice(0, 8)}`;
const dir = mkdtempSync(join(tmpdir(), 'kairos-probe-rabbitmq-'));
const store = openSqliteStore({ path: join(dir, 'kairos.db') });
const BARE_PREFETCH = 128;

/** CPU time of the RabbitMQ server (the beam.smp process on this machine), from /proc, in µs. */
function brokerCpuUs(): number {
  const pid = execFileSync('pgrep', ['-f', 'beam.smp.*rabbit'], { encoding: 'utf8' }).trim().split('\n')[0]!;
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second here).
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** With PROBE_PROFILE=<dir>, each measured phase writes a CPU profile there (the enqueue is left out). */
async function measure(label: string, run: () => Promise<number>): Promise<void> {
  const profileDir = process.env.PROBE_PROFILE;
  const session = profileDir === undefined ? null : new Session();
  if (session !== null) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  }
  const n0 = process.cpuUsage();
  const b0 = brokerCpuUs();
  const rate = await run();
  const n = process.cpuUsage(n0);
  const b = brokerCpuUs() - b0;
  if (session !== null) {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(join(profileDir!, `${label}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
  console.log(`${label.padEnd(8)} ${Math.round(rate).toString().padStart(6)} jobs/s | node ${((n.user + n.system) / jobs).toFixed(1)} µs/job | rabbitmq ${(b / jobs).toFixed(1)} µs/job`);
}

async function bare(queue: string): Promise<void> {
  const conn = await amqp.connect(url);
  try {
    const publisher = await conn.createConfirmChannel();
    await barePublish(publisher, queue, jobs);
    await measure('bare', () => bareConsume(conn, queue, jobs, BARE_PREFETCH));
    await publisher.deleteQueue(queue);
  } finally {
    await conn.close();
  }
}

const provider = createRabbitmqProvider({ url, prefix, store, queueType: 'quorum', prefetch: concurrency });
await provider.connect();
const queues: string[] = [];
try {
  for (let round = 1; round <= rounds; round += 1) {
    const q = `k${round}`;
    queues.push(q);
    await provider.ensureQueue(q);
    await kairosEnqueueBatch(provider, q, jobs);
    const heldJobs = createHeldJobStore(store, { provider: 'rabbitmq' });
    await measure('kairos', () => kairosProcess(provider, q, jobs, concurrency, { heldJobs }));
    if (process.env.PROBE_KAIROS_ONLY === undefined) await bare(`${prefix}.bare${round}`);
  }
} finally {
  await provider.close();
  const conn = await amqp.connect(url);
  const ch = await conn.createChannel();
  for (const q of queues) for (const name of [`${prefix}.${q}`, `${prefix}.${q}.dead`]) await ch.deleteQueue(name);
  await ch.deleteExchange(`${prefix}.dlx`);
  await conn.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
