import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import type { JobHandler } from '../../queue/handlers.js';
import { createHeldJobStore } from '../../queue/held/index.js';
import { openQueueConnection } from '../../queue/providers/from-config.js';
import { createQueueWorker } from '../../queue/worker.js';
import { addQueueFlags, connectionSettings, type QueueFlags } from './queue-flags.js';

interface WorkerFlags extends QueueFlags {
  concurrency: string;
  handlers?: string;
  leaseMs: string;
  shutdownTimeoutMs: string;
  maxJobs?: string;
  json?: boolean;
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((done) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), done()), { once: true });
  });

/** Handlers every `kairos worker` has, for smoke tests and demos. */
export const BUILTIN_HANDLERS: Record<string, JobHandler> = {
  /** Returns its input. */
  'kairos.echo': (payload: unknown) => payload,
  /** Waits `ms` (default 1000), honouring the abort signal. */
  'kairos.sleep': async (payload: { ms?: number } | null, ctx) => {
    await sleep(payload?.ms ?? 1_000, ctx.signal);
    return { sleptMs: payload?.ms ?? 1_000 };
  },
  /** Always fails with `message`: to see retries and the dead-letter queue at work. */
  'kairos.fail': (payload: { message?: string } | null) => {
    throw new Error(payload?.message ?? 'kairos.fail always fails');
  },
};

/** Loads a handlers module: its `handlers` export, or its default export, mapping key → function. */
export async function loadHandlersModule(path: string): Promise<Record<string, JobHandler>> {
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(resolve(path)).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError(`Cannot load the handlers module '${path}': ${(cause as Error).message}`, { cause, details: { field: 'handlers', path } });
  }
  const map = (loaded.handlers ?? loaded.default);
  if (typeof map !== 'object' || map === null) {
    throw new ConfigError(`The handlers module '${path}' must export 'handlers' (or a default export): an object of key → function.`, {
      details: { field: 'handlers', path },
    });
  }
  return map as Record<string, JobHandler>;
}

export function registerWorker(program: Command): void {
  addQueueFlags(
    program
      .command('worker')
      .description('Run queue jobs: pull from a provider, run handlers by key, retry, dead-letter.')
      .option('--concurrency <n>', 'handlers running at once', '4')
      .option('--handlers <module>', 'a module exporting handlers: { key: (payload, ctx) => … } (built-ins: kairos.echo, kairos.sleep, kairos.fail)')
      .option('--lease-ms <ms>', 'lease per job; renewed every lease/3 while it runs', '30000')
      .option('--shutdown-timeout-ms <ms>', 'on SIGINT/SIGTERM, how long in-flight jobs may finish', '30000')
      .option('--max-jobs <n>', 'stop after this many jobs were settled (for scripts and tests)')
      .option('--json', 'one JSON line per event', false),
  ).action(async (flags: WorkerFlags) => {
    const concurrency = Number(flags.concurrency);
    const maxJobs = flags.maxJobs === undefined ? Number.POSITIVE_INFINITY : Number(flags.maxJobs);
    const userHandlers = flags.handlers === undefined ? {} : await loadHandlersModule(flags.handlers);
    const connection = await openQueueConnection(connectionSettings(flags));
    const { provider, store } = connection;
    const worker = createQueueWorker({
      provider,
      queue: flags.queue,
      handlers: { ...BUILTIN_HANDLERS, ...userHandlers },
      concurrency,
      leaseMs: Number(flags.leaseMs),
      shutdownTimeoutMs: Number(flags.shutdownTimeoutMs),
      ...(provider.capabilities.nativeDelay ? {} : { heldJobs: createHeldJobStore(store, { provider: provider.name }) }),
    });
    const print = (event: string, fields: Record<string, unknown>, text: string) =>
      process.stdout.write(flags.json === true ? `${JSON.stringify({ event, ...fields })}\n` : `${new Date().toISOString()} ${text}\n`);
    let settled = 0;
    let stopping: Promise<void> | null = null;
    let markStopped: () => void = () => undefined;
    const stopped = new Promise<void>((done) => (markStopped = done));
    const stop = () => {
      stopping ??= worker.stop().finally(markStopped);
      return stopping;
    };
    const countSettled = () => {
      settled += 1;
      if (settled >= maxJobs) void stop();
    };
    worker.events.on('job_completed', (e) => {
      print('job_completed', { id: e.job.id, key: e.job.name, durationMs: e.durationMs }, `completed ${e.job.name} ${e.job.id} in ${e.durationMs.toFixed(1)} ms`);
      countSettled();
    });
    worker.events.on('job_retried', (e) => {
      print('job_retried', { id: e.job.id, key: e.job.name, attempt: e.job.attempt, delayMs: e.delayMs, error: e.error.message }, `retry ${e.job.name} ${e.job.id} (attempt ${e.job.attempt} failed: ${e.error.message}) in ${e.delayMs} ms`);
      countSettled();
    });
    worker.events.on('job_dead', (e) => {
      print('job_dead', { id: e.job.id, key: e.job.name, error: e.error.message }, `dead ${e.job.name} ${e.job.id}: ${e.error.message}`);
      countSettled();
    });
    worker.events.on('worker_error', (e) => print('worker_error', { operation: e.operation, error: e.error.message }, `worker error in ${e.operation}: ${e.error.message}`));
    const onSignal = () => void stop();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    await worker.start();
    print('worker_started', { provider: provider.name, queue: flags.queue, concurrency }, `worker on ${provider.name}:${flags.queue}, concurrency ${concurrency}`);
    try {
      await stopped;
      print('worker_stopped', { settled }, `worker stopped after ${settled} job(s)`);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await connection.close();
    }
  });
}
