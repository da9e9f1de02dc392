/**
 * kill -9 crash test for a queue provider: enqueue `jobs` jobs, run a worker child process, SIGKILL it
 * `kills` times at random moments (starting a new one each time), let the last one finish, and check
 * from the external record that every job completed at least once, none was lost, and duplicates are
 * no more than the jobs in flight at each kill.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ProviderName } from '../../src/queue/contract.js';
import { openQueueConnection, type QueueConnectionSettings } from '../../src/queue/providers/from-config.js';

export interface CrashTestOptions {
  provider: ProviderName;
  providerOptions: Omit<QueueConnectionSettings, 'provider'>;
  /** Where the results file goes. */
  workDir: string;
  jobs?: number;
  kills?: number;
  concurrency?: number;
  /** Short leases so a killed worker's jobs come back quickly. Default 1500. */
  leaseMs?: number;
  /** Kill moments are drawn uniformly from this range after the child is ready. Default [200, 1200]. */
  killAfterMs?: [number, number];
  /** Bound on the whole run (liveness, not a performance claim). Default 240000. */
  timeoutMs?: number;
}

export interface CrashTestReport {
  jobs: number;
  kills: number;
  completedUnique: number;
  recorded: number;
  duplicates: number;
  inFlightAtKills: number[];
  children: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Child {
  process: ChildProcess;
  ready: Promise<void>;
  exited: Promise<void>;
  lastInFlight: () => number;
  failures: () => number;
  stderr: () => string;
}

function startChild(config: object): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'queue-worker-child.ts')], {
    env: { ...process.env, KAIROS_CHAOS_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let inFlight = 0;
  let buffered = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'ready') markReady();
      else if (line.startsWith('inflight ')) inFlight = Number(line.slice(9));
    }
  });
  let failures = 0;
  let stderrTail = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    failures += (chunk.match(/job_failed/g) ?? []).length;
    stderrTail = (stderrTail + chunk).slice(-2_000);
  });
  // 'close' fires after stdout is drained, so the last in-flight report has been read.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return { process: child, ready: Promise.race([ready, exited]), exited, lastInFlight: () => inFlight, failures: () => failures, stderr: () => stderrTail };
}

function readRecord(path: string): number[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map(Number);
}

export async function runCrashTest(options: CrashTestOptions): Promise<CrashTestReport> {
  const jobs = options.jobs ?? 10_000;
  const kills = options.kills ?? 5;
  const [killMin, killMax] = options.killAfterMs ?? [200, 1_200];
  const deadline = Date.now() + (options.timeoutMs ?? 240_000);
  const queue = `chaos_${Math.random().toString(36).slice(2, 8)}`;
  const resultsFile = join(options.workDir, `${queue}.results`);
  const connection = { provider: options.provider, ...options.providerOptions };

  const producer = await openQueueConnection(connection);
  try {
    for (let i = 0; i < jobs; i += 1_000) {
      const batch = Array.from({ length: Math.min(1_000, jobs - i) }, (_, k) => ({
        queue,
        name: 'chaos.record',
        payload: { index: i + k },
        // Many kills may hit one job; it must not be dead-lettered for being unlucky.
        maxAttempts: 1_000,
      }));
      await producer.provider.enqueue(batch);
    }
  } finally {
    await producer.close();
  }

  const childConfig = { connection, queue, resultsFile, concurrency: options.concurrency ?? 16, leaseMs: options.leaseMs ?? 1_500 };
  const inFlightAtKills: number[] = [];
  let children = 0;
  let child: Child | null = null;
  try {
    for (let k = 0; k < kills; k += 1) {
      child = startChild(childConfig);
      children += 1;
      await child.ready;
      await sleep(killMin + Math.random() * (killMax - killMin));
      child.process.kill('SIGKILL');
      await child.exited;
      inFlightAtKills.push(child.lastInFlight());
      child = null;
      if (Date.now() > deadline) throw new Error('crash test ran past its time bound while killing');
    }
    child = startChild(childConfig);
    children += 1;
    await child.ready;
    while (new Set(readRecord(resultsFile)).size < jobs) {
      if (Date.now() > deadline) throw new Error(`crash test ran past its time bound: ${new Set(readRecord(resultsFile)).size}/${jobs} jobs completed`);
      if (child.process.exitCode !== null) {
        await child.exited;
        throw new Error(`the last worker exited early with code ${child.process.exitCode}: ${child.stderr()}`);
      }
      await sleep(100);
    }
    // Every job was recorded once; jobs a killed worker recorded but never acked are still leased and
    // will run again (the duplicates). Wait until the queue is empty before stopping the last worker.
    const watcher = await openQueueConnection(connection);
    try {
      for (;;) {
        const stats = await watcher.provider.stats(queue);
        if (stats.waiting + stats.active + stats.delayed === 0) break;
        if (Date.now() > deadline) throw new Error(`crash test ran past its time bound with jobs left: ${JSON.stringify(stats)}`);
        await sleep(200);
      }
    } finally {
      await watcher.close();
    }
    child.process.kill('SIGTERM');
    await child.exited;
    child = null;
  } finally {
    if (child !== null) {
      child.process.kill('SIGKILL');
      await child.exited;
    }
  }

  // Leftovers would mean jobs still queued or leased: none may remain.
  const check = await openQueueConnection(connection);
  try {
    const stats = await check.provider.stats(queue);
    assert.equal(stats.waiting + stats.active + stats.delayed + stats.dead, 0, `jobs left in the queue: ${JSON.stringify(stats)}`);
  } finally {
    await check.close();
  }

  const recorded = readRecord(resultsFile);
  const unique = new Set(recorded);
  for (let i = 0; i < jobs; i += 1) assert.ok(unique.has(i), `job ${i} never completed`);
  assert.equal(unique.size, jobs, 'no unknown indices');
  const duplicates = recorded.length - jobs;
  const allowed = inFlightAtKills.reduce((a, b) => a + b, 0);
  assert.ok(duplicates <= allowed, `${duplicates} duplicates > ${allowed} jobs in flight at the kills (${inFlightAtKills.join(', ')})`);
  return { jobs, kills, completedUnique: unique.size, recorded: recorded.length, duplicates, inFlightAtKills, children };
}
