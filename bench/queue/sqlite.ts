/**
 * SQLite queue benchmark: Kairos alone (the goal is ≥ 5,000 durable jobs/s).
 * Run: node --import tsx bench/queue/sqlite.ts [jobs]   (default 100000)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSqliteProvider } from '../../src/queue/providers/sqlite.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import {
  kairosEnqueueBatch,
  kairosEnqueueSingle,
  kairosLatency,
  kairosProcess,
  machineNote,
  percentile,
  renderTable,
  writeResults,
  type Measurement,
} from './harness.js';

const jobs = Number(process.argv[2] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'kairos-bench-sqlite-'));
const store = openSqliteStore({ path: join(dir, 'bench.db') });
const provider = createSqliteProvider({ store });
await provider.connect();
const m: Measurement[] = [];
const system = 'kairos-sqlite';

try {
  const batch = await kairosEnqueueBatch(provider, 'c8', jobs);
  m.push({ system, metric: `enqueue batch (1,000/call), ${jobs} jobs`, value: batch, unit: 'jobs/s', higherIsBetter: true });
  m.push({ system, metric: `process ${jobs} no-op jobs, concurrency 8`, value: await kairosProcess(provider, 'c8', jobs, 8), unit: 'jobs/s', higherIsBetter: true });
  const singleJobs = Math.min(jobs, 20_000);
  const single = await kairosEnqueueSingle(provider, 'c32', singleJobs);
  m.push({ system, metric: `enqueue single (1/call), ${singleJobs} jobs`, value: single, unit: 'jobs/s', higherIsBetter: true });
  await kairosEnqueueBatch(provider, 'c32', jobs - singleJobs);
  m.push({ system, metric: `process ${jobs} no-op jobs, concurrency 32`, value: await kairosProcess(provider, 'c32', jobs, 32), unit: 'jobs/s', higherIsBetter: true });
  const samples = await kairosLatency(provider, 'lat', 1_000, 10);
  m.push({ system, metric: 'enqueue→start latency p50 (1,000 jobs, 10 ms apart)', value: percentile(samples, 50), unit: 'ms', higherIsBetter: false });
  m.push({ system, metric: 'enqueue→start latency p99 (1,000 jobs, 10 ms apart)', value: percentile(samples, 99), unit: 'ms', higherIsBetter: false });
  const table = renderTable(m, system);
  console.log(table);
  const path = writeResults('queue-sqlite.md', 'Queue benchmark — SQLite', `${machineNote()}; file-backed WAL store, synchronous=NORMAL.\n\n${table}`);
  console.log(`\nwritten to ${path}`);
} finally {
  await provider.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}
