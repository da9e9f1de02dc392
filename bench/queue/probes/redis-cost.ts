/**
 * Probe: where a no-op job's time goes on Redis — Kairos (provider + worker runtime) vs BullMQ,
 * alternating rounds. For each: wall-clock throughput, Redis CPU µs per job (INFO cpu) and Node CPU
 * µs per job (process.cpuUsage), and the commands Redis ran per job (INFO commandstats).
 * Run: node --import tsx bench/queue/probes/redis-cost.ts [jobs] [concurrency] [rounds]
 */
import { randomUUID } from 'node:crypto';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { createRedisProvider } from '../../../src/queue/providers/redis.js';
import { deleteRedisPrefixes } from '../../../test/queue/providers/redis-support.js';
import { kairosEnqueueBatch, kairosProcess } from '../harness.js';

const jobs = Number(process.argv[2] ?? 50_000);
const concurrency = Number(process.argv[3] ?? 8);
const rounds = Number(process.argv[4] ?? 3);
const url = 'redis://127.0.0.1:6379';
const admin = new Redis(url);
const prefix = `kprobe_${randomUUID().slice(0, 8)}`;

async function redisCpuUs(): Promise<number> {
  const info = await admin.info('cpu');
  const pick = (k: string) => Number(new RegExp(`\\b${k}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (pick('used_cpu_user') + pick('used_cpu_sys')) * 1e6;
}
async function commandCalls(): Promise<Map<string, number>> {
  const info = await admin.info('commandstats');
  const out = new Map<string, number>();
  for (const m of info.matchAll(/cmdstat_(\w+):calls=(\d+)/g)) out.set(m[1]!, Number(m[2]));
  return out;
}

async function measure(label: string, run: () => Promise<number>): Promise<void> {
  await admin.config('RESETSTAT');
  const r0 = await redisCpuUs();
  const n0 = process.cpuUsage();
  const rate = await run();
  const n = process.cpuUsage(n0);
  const r = (await redisCpuUs()) - r0;
  const calls = await commandCalls();
  const top = [...calls].filter(([k]) => k !== 'info' && k !== 'config').sort((a, b) => b[1] - a[1]).slice(0, 8)
    .map(([k, v]) => `${k} ${(v / jobs).toFixed(2)}`).join(', ');
  console.log(`${label.padEnd(8)} ${Math.round(rate).toString().padStart(6)} jobs/s | redis ${(r / jobs).toFixed(1)} µs/job | node ${((n.user + n.system) / jobs).toFixed(1)} µs/job | per job: ${top}`);
}

const provider = createRedisProvider({ url, prefix });
await provider.connect();
try {
  for (let round = 1; round <= rounds; round += 1) {
    const q = `k${round}`;
    await kairosEnqueueBatch(provider, q, jobs);
    await measure('kairos', () => kairosProcess(provider, q, jobs, concurrency));
    const bq = new Queue(`b${round}`, { connection: { url }, prefix });
    for (let i = 0; i < jobs; i += 1_000) await bq.addBulk(Array.from({ length: Math.min(1_000, jobs - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
    await measure('bullmq', async () => {
      let done = 0;
      let resolveAll: () => void = () => undefined;
      const all = new Promise<void>((resolve) => (resolveAll = resolve));
      const started = performance.now();
      const worker = new Worker(`b${round}`, () => {
        done += 1;
        if (done === jobs) resolveAll();
        return Promise.resolve();
      }, { connection: { url }, prefix, concurrency, removeOnComplete: { count: 0 }, removeOnFail: { count: 0 } });
      await all;
      const rate = jobs / ((performance.now() - started) / 1_000);
      await worker.close();
      return rate;
    });
    await bq.close();
  }
} finally {
  await provider.close();
  await deleteRedisPrefixes([prefix], url);
  admin.disconnect();
}
