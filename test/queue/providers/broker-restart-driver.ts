/**
 * Drives a broker-restart chaos test: a worker runs while a producer keeps enqueueing; mid-run the
 * broker is killed (or stopped) and brought back, once or more. Only jobs whose enqueue call
 * returned count as acknowledged; every one of them must complete. The producer re-sends a failed
 * batch with the same job ids, so a batch that did reach the broker before the error is not doubled.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import type { QueueProvider } from '../../../src/queue/contract.js';
import { createHeldJobStore } from '../../../src/queue/held/index.js';
import { createQueueWorker } from '../../../src/queue/worker.js';
import type { Store } from '../../../src/store/store.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface RestartRunOptions {
  provider: QueueProvider;
  /** The Kairos store (held retries for brokers that cannot delay). */
  store: Store;
  queue: string;
  /** How long the producer keeps enqueueing. */
  produceMs: number;
  /** Moments, from the start, at which `restart` is called. */
  restartAtMs: readonly number[];
  restart: () => Promise<void>;
  /**
   * The worker starts this long after the producer, so a backlog of acknowledged jobs sits in the
   * broker at the first restart — the jobs a broker without durable writes would lose. Default 0.
   */
  workerStartMs?: number;
  /** Liveness bound for the drain after producing. Default 90000. */
  drainTimeoutMs?: number;
}

export interface RestartRunReport {
  acknowledged: number;
  completed: number;
  missing: string[];
  failedEnqueueCalls: number;
  workerErrors: number;
  restarts: number;
}

export async function runBrokerRestart(options: RestartRunOptions): Promise<RestartRunReport> {
  const { provider, queue } = options;
  const acknowledged = new Set<string>();
  const completed = new Set<string>();
  let workerErrors = 0;
  const worker = createQueueWorker({
    provider,
    queue,
    concurrency: 8,
    leaseMs: 3_000,
    pollWaitMs: 500,
    ...(provider.capabilities.nativeDelay ? {} : { heldJobs: createHeldJobStore(options.store, { provider: provider.name }) }),
    // Retries from an outage should come back fast, not after the default exponential backoff.
    defaultBackoff: { type: 'fixed', delayMs: 200 },
    handlers: { 'restart.record': (_payload: unknown, ctx) => void completed.add(ctx.job.id) },
  });
  worker.events.on('worker_error', () => (workerErrors += 1));

  const startedAt = Date.now();
  let restarts = 0;
  /** The restart under way, if any. */
  let restart: Promise<void> = Promise.resolve();
  const restarting = (async () => {
    for (const atMs of options.restartAtMs) {
      await sleep(Math.max(0, startedAt + atMs - Date.now()));
      restart = options.restart();
      await restart;
      restarts += 1;
    }
  })();
  // A worker starting while the broker is down fails fast by design (bounded connect retries), so
  // it waits out a restart under way: what is tested is a restart under a running worker.
  const starting = sleep(options.workerStartMs ?? 0)
    .then(() => restart)
    .then(() => worker.start());
  // A worker that could not start ends the run now, not after the producer and the drain wait.
  let startFailed = false;
  starting.catch(() => (startFailed = true));

  let failedEnqueueCalls = 0;
  let batch = 0;
  while (Date.now() - startedAt < options.produceMs && !startFailed) {
    batch += 1;
    const jobs = Array.from({ length: 20 }, (_, i) => ({
      queue,
      name: 'restart.record',
      payload: { batch, i },
      id: `r-${batch}-${i}`,
      maxAttempts: 1_000,
    }));
    for (;;) {
      try {
        await provider.enqueue(jobs);
        for (const job of jobs) acknowledged.add(job.id);
        break;
      } catch {
        failedEnqueueCalls += 1;
        await sleep(200);
      }
    }
    await sleep(50);
  }
  try {
    await restarting;
    await starting;
  } catch (error) {
    await worker.stop({ timeoutMs: 1_000 }).catch(() => undefined);
    throw error;
  }

  const deadline = Date.now() + (options.drainTimeoutMs ?? 90_000);
  const missingNow = () => [...acknowledged].filter((id) => !completed.has(id));
  while (missingNow().length > 0 && Date.now() < deadline) await sleep(200);
  await worker.stop({ timeoutMs: 5_000 });
  return {
    acknowledged: acknowledged.size,
    completed: completed.size,
    missing: missingNow(),
    failedEnqueueCalls,
    workerErrors,
    restarts,
  };
}

/**
 * The restart test every broker runs: 40 s of producing, the worker joining at 13 s so a backlog
 * sits in the broker, restarts at 10 s and 25 s. Asserts both restarts happened, over 1,000 jobs
 * were acknowledged and every one of them completed; closes the provider; returns the report.
 */
export async function assertNoAcknowledgedJobLost(
  label: string,
  options: Pick<RestartRunOptions, 'provider' | 'store' | 'restart' | 'drainTimeoutMs'>,
): Promise<RestartRunReport> {
  try {
    const report = await runBrokerRestart({ ...options, queue: 'restart', produceMs: 40_000, restartAtMs: [10_000, 25_000], workerStartMs: 13_000 });
    console.log(`${label} restart: ${JSON.stringify({ ...report, missing: report.missing.length })}`);
    assert.equal(report.restarts, 2);
    assert.deepEqual(report.missing, [], 'every acknowledged job completed');
    assert.ok(report.acknowledged > 1_000, `over 1,000 jobs acknowledged (got ${report.acknowledged})`);
    return report;
  } finally {
    await options.provider.close();
  }
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(500, () => done(false));
      socket.once('error', () => done(false));
      socket.connect(port, '127.0.0.1', () => done(true));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

/**
 * A broker server process this test owns: `start()` spawns it (again), `kill()` sends SIGKILL and
 * waits for the exit. `kill()` is safe to call when it is not running — `after()` always calls it.
 */
export class OwnedServer {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    private readonly command: string,
    private readonly args: readonly string[],
    private readonly port: number,
  ) {}

  async start(): Promise<void> {
    if (this.child !== null) throw new Error(`${this.command} is already running`);
    const busy = await waitForPort(this.port, 0).then(
      () => true,
      () => false,
    );
    if (busy) throw new Error(`port ${this.port} is already in use: another ${this.command} left running?`);
    const child = spawn(this.command, [...this.args], { stdio: 'ignore' });
    this.child = child;
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      if (this.child === child) this.child = null;
    });
    await Promise.race([
      waitForPort(this.port),
      this.exited.then(() => {
        throw new Error(`${this.command} exited at start (is port ${this.port} free?)`);
      }),
    ]);
  }

  /** SIGKILL, a second of downtime, then up again. */
  async restart(): Promise<void> {
    await this.kill();
    await sleep(1_000);
    await this.start();
  }

  async kill(): Promise<void> {
    const child = this.child;
    if (child === null) return;
    child.kill('SIGKILL');
    await this.exited;
    this.child = null;
  }
}
