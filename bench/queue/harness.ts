/**
 * Shared benchmark harness: timing, percentiles, a markdown table with ratios against an anchor,
 * and the results file under bench/results/. Also the Kairos queue scenarios, so every provider's
 * bench measures the same things the same way.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { QueueProvider } from '../../src/queue/contract.js';
import { createQueueWorker, type QueueWorkerOptions } from '../../src/queue/worker.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** One measured figure. `higherIsBetter` decides the direction of the ratio column. */
export interface Measurement {
  system: string;
  metric: string;
  value: number;
  unit: string;
  higherIsBetter: boolean;
  note?: string;
}

function format(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(2);
}

/**
 * A markdown table, one row per metric and system, with the ratio against `anchor` for that metric
 * ("×1.00" for the anchor; above 1 means better than the anchor in that metric's direction).
 */
export function renderTable(measurements: readonly Measurement[], anchor: string): string {
  const lines = ['| metric | system | value | unit | vs ' + anchor + ' | note |', '|---|---|---:|---|---:|---|'];
  for (const m of measurements) {
    const base = measurements.find((x) => x.metric === m.metric && x.system === anchor);
    let ratio = 'n/a';
    if (base !== undefined && base.value > 0 && m.value > 0) {
      ratio = `×${(m.higherIsBetter ? m.value / base.value : base.value / m.value).toFixed(2)}`;
    }
    lines.push(`| ${m.metric} | ${m.system} | ${format(m.value)} | ${m.unit} | ${ratio} | ${m.note ?? ''} |`);
  }
  return lines.join('\n');
}

export function writeResults(fileName: string, title: string, body: string): string {
  const path = join(dirname(fileURLToPath(import.meta.url)), '..', 'results', fileName);
  mkdirSync(dirname(path), { recursive: true });
  // The newest run replaces the file's head; the `## ` sections below it (earlier runs, analyses) stay.
  const previous = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const history = previous.indexOf('\n## ');
  writeFileSync(path, `# ${title}\n\n${body}\n${history >= 0 ? previous.slice(history) : ''}`);
  return path;
}

/**
 * A broker bench's report: Kairos rows first, the ratio against the bare client loop `anchor`,
 * printed and written to bench/results/`fileName` under `title` and `intro`.
 */
export function reportAgainstBareLoop(measurements: Measurement[], anchor: string, fileName: string, title: string, intro: string): void {
  measurements.sort((a, b) => (a.system === b.system ? 0 : a.system.startsWith('kairos') ? -1 : 1));
  const table = renderTable(measurements, anchor);
  console.log(table);
  console.log(`\nwritten to ${writeResults(fileName, title, `${machineNote()}; ${intro}\n\n${table}`)}`);
}

export function machineNote(): string {
  return `Node ${process.version}, ${process.platform}/${process.arch}, run ${new Date().toISOString()}`;
}

/** Enqueue throughput with batches of `batchSize` (jobs/s). */
export async function kairosEnqueueBatch(provider: QueueProvider, queue: string, jobs: number, batchSize = 1_000): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < jobs; i += batchSize) {
    const batch = Array.from({ length: Math.min(batchSize, jobs - i) }, (_, k) => ({ queue, name: 'noop', payload: { i: i + k } }));
    await provider.enqueue(batch);
  }
  return jobs / ((performance.now() - started) / 1_000);
}

/** Enqueue throughput one job per call (jobs/s). */
export async function kairosEnqueueSingle(provider: QueueProvider, queue: string, jobs: number): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < jobs; i += 1) await provider.enqueue([{ queue, name: 'noop', payload: { i } }]);
  return jobs / ((performance.now() - started) / 1_000);
}

/**
 * Processing throughput of `jobs` already-enqueued no-op jobs with `concurrency` (jobs/s). `extra`:
 * more worker options — `heldJobs` for a broker that cannot delay.
 */
export async function kairosProcess(
  provider: QueueProvider,
  queue: string,
  jobs: number,
  concurrency: number,
  extra: Partial<QueueWorkerOptions> = {},
): Promise<number> {
  let done = 0;
  let resolveAll: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (resolveAll = resolve));
  const worker = createQueueWorker({
    provider,
    queue,
    concurrency,
    pollWaitMs: 1_000,
    ...extra,
    handlers: {
      noop: () => {
        done += 1;
        if (done === jobs) resolveAll();
      },
    },
  });
  const started = performance.now();
  await worker.start();
  await all;
  const elapsedMs = performance.now() - started;
  await worker.stop();
  return jobs / (elapsedMs / 1_000);
}

/** Enqueue→handler-start latency at low load: `jobs` jobs one at a time, `gapMs` apart. Returns ms samples. */
export async function kairosLatency(provider: QueueProvider, queue: string, jobs: number, gapMs: number): Promise<number[]> {
  const samples: number[] = [];
  const sentAt = new Map<number, number>();
  const worker = createQueueWorker({
    provider,
    queue,
    concurrency: 8,
    pollWaitMs: 5_000,
    handlers: {
      ping: (payload: { i: number }) => {
        samples.push(performance.now() - (sentAt.get(payload.i) ?? Number.NaN));
      },
    },
  });
  await worker.start();
  for (let i = 0; i < jobs; i += 1) {
    sentAt.set(i, performance.now());
    await provider.enqueue([{ queue, name: 'ping', payload: { i } }]);
    await sleep(gapMs);
  }
  const deadline = Date.now() + 10_000;
  while (samples.length < jobs && Date.now() < deadline) await sleep(20);
  await worker.stop();
  return samples;
}
