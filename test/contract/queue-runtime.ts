/**
 * The queue runtime contract: the worker and the client over a provider, run unchanged for every
 * provider. Where the broker cannot delay (`capabilities.nativeDelay` false), delayed jobs and delayed
 * retries go through a HeldJobStore on a throwaway SQLite Kairos store and a DelayDispatcher — so
 * delayed delivery is checked for every provider. No timing assertions: only order of events.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ConfigError,
  PayloadNotSerializableError,
  PayloadTooLargeError,
  TimeoutError,
  UnknownProviderError,
} from '../../src/errors.js';
import { createQueueClient, type QueueClient } from '../../src/queue/client.js';
import type { QueueProvider } from '../../src/queue/contract.js';
import type { JobHandler } from '../../src/queue/handlers.js';
import { createQueueWorker, type QueueWorker, type QueueWorkerOptions } from '../../src/queue/worker.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../src/store/store.js';
import { createHeldJobStore } from '../../src/queue/held/index.js';
import { freshQueueName } from './queue-provider.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Resolves when `predicate` holds, polling; rejects after `timeoutMs` (a liveness bound, not a timing claim). */
async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(20);
  }
}

export function runQueueRuntimeContract(
  name: string,
  makeProvider: () => Promise<QueueProvider>,
  options: { skip?: string | false } = {},
): void {
  describe(`queue runtime contract: ${name}`, { skip: options.skip ?? false }, () => {
    let provider: QueueProvider;
    let store: SqliteStore;
    let client: QueueClient;
    let dir: string;
    const workers: QueueWorker[] = [];

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'kairos-runtime-'));
      store = openSqliteStore({ path: join(dir, 'kairos.db') });
      provider = await makeProvider();
      await provider.connect();
      client = createQueueClient({ providers: provider, store });
    });
    after(async () => {
      for (const worker of workers) await worker.stop({ timeoutMs: 1_000 });
      await client?.close();
      await provider?.close();
      await store?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    function startWorker(queue: string, handlers: Record<string, JobHandler>, extra: Partial<QueueWorkerOptions> = {}): Promise<QueueWorker> {
      const worker = createQueueWorker({
        provider,
        queue,
        handlers,
        pollWaitMs: 500,
        ...(provider.capabilities.nativeDelay ? {} : { heldJobs: createHeldJobStore(store, { provider: provider.name }) }),
        ...extra,
      });
      workers.push(worker);
      return worker.start().then(() => worker);
    }

    it('runs the handler registered for the job key, with its payload and context', async () => {
      const queue = freshQueueName('rt_run');
      const seen: unknown[] = [];
      const worker = await startWorker(queue, {
        'email.send': (payload: { to: string }, ctx) => {
          seen.push({ payload, attempt: ctx.attempt, key: ctx.job.name, aborted: ctx.signal.aborted });
          return 'sent';
        },
      });
      const completed: unknown[] = [];
      worker.events.on('job_completed', (e) => completed.push(e.result));
      const result = await client.queue(queue).add('email.send', { to: 'ops@example.com' });
      await until(() => completed.length === 1, 'job_completed');
      assert.deepEqual(seen, [{ payload: { to: 'ops@example.com' }, attempt: 1, key: 'email.send', aborted: false }]);
      assert.deepEqual(completed, ['sent']);
      assert.equal(result.deduplicated, false);
      await worker.stop();
      const stats = await provider.stats(queue);
      assert.equal(stats.waiting + stats.active + stats.dead, 0);
    });

    /** The contract's provider with its fetch observed: every batch is reported as it lands. */
    function observedFetches(onBatch: (leases: number) => void, onAsk: (max: number) => void = () => undefined): QueueProvider {
      const observed = Object.create(provider) as QueueProvider;
      observed.fetch = async (queue, fetchOptions) => {
        onAsk(fetchOptions.max);
        const leases = await provider.fetch(queue, fetchOptions);
        onBatch(leases.length);
        return leases;
      };
      return observed;
    }

    it('fetches ahead while handlers run, holding about 50 ms of work ahead, and runs every job once', async () => {
      const queue = freshQueueName('rt_ahead');
      const limit = 4;
      const runs = new Map<number, number>();
      let fetched = 0;
      let started = 0;
      let running = 0;
      let askedAhead = 0;
      let mostWaiting = 0;
      await client.queue(queue).addBulk(Array.from({ length: 60 }, (_, i) => ({ name: 'short', payload: { i } })));
      const worker = await startWorker(
        queue,
        {
          short: async (payload: { i: number }) => {
            started += 1;
            running += 1;
            runs.set(payload.i, (runs.get(payload.i) ?? 0) + 1);
            await sleep(25);
            running -= 1;
          },
        },
        {
          concurrency: limit,
          prefetch: true,
          provider: observedFetches(
            (n) => {
              fetched += n;
              mostWaiting = Math.max(mostWaiting, fetched - started);
            },
            // Asking for more jobs than there are slots left: the fetch is ahead of the handlers.
            (max) => void (max + running + (fetched - started) > limit && (askedAhead += 1)),
          ),
        },
      );
      await until(() => runs.size === 60 && running === 0, 'all 60 jobs ran');
      await worker.stop();
      assert.ok([...runs.values()].every((n) => n === 1), 'every job ran exactly once');
      assert.ok(askedAhead > 0, 'a fetch asked for jobs beyond the free slots: it was ahead of the handlers');
      // Handlers of ≥ 25 ms at concurrency 4: 50 ms of work is 8 jobs, so the worker holds at most 8
      // ahead, plus a batch for the slots that are free as it lands (≤ limit).
      assert.ok(mostWaiting <= limit + 8, `at most ${limit + 8} jobs were leased and not yet started (saw ${mostWaiting})`);
    });

    it('gives a job fetched ahead back to the queue on shutdown, where another worker runs it once', async () => {
      const queue = freshQueueName('rt_ahead_stop');
      const runs: number[] = [];
      let release: () => void = () => undefined;
      const blocker = new Promise<void>((resolve) => (release = resolve));
      let batches = 0;
      await client.queue(queue).add('job', { i: 0 });
      const first = await startWorker(
        queue,
        {
          job: async (payload: { i: number }) => {
            runs.push(payload.i);
            if (payload.i === 0) await blocker;
          },
        },
        { concurrency: 1, prefetch: true, provider: observedFetches((n) => (batches += n > 0 ? 1 : 0)) },
      );
      await until(() => runs.length === 1, 'job 0 started');
      await client.queue(queue).add('job', { i: 1 });
      // Job 1 is fetched while job 0 holds the only slot: it waits, leased, in this worker.
      await until(() => batches === 2, 'job 1 fetched ahead');
      const stopped = first.stop({ timeoutMs: 5_000 });
      release();
      await stopped;
      assert.deepEqual(runs, [0], 'job 1 never ran on the worker that was stopping');
      const second = await startWorker(queue, { job: (payload: { i: number }) => void runs.push(payload.i) });
      await until(() => runs.length === 2, 'job 1 ran on the second worker');
      await second.stop();
      assert.deepEqual(runs, [0, 1]);
      const stats = await provider.stats(queue);
      assert.equal(stats.waiting + stats.active + stats.delayed + stats.dead, 0);
    });

    it('retries a failing job with backoff, then dead-letters it after maxAttempts; other jobs are unaffected', async () => {
      const queue = freshQueueName('rt_poison');
      const attempts: number[] = [];
      const okDone: number[] = [];
      const worker = await startWorker(
        queue,
        {
          poison: (_payload, ctx) => {
            attempts.push(ctx.attempt);
            throw new Error(`poisoned on attempt ${ctx.attempt}`);
          },
          ok: (payload: { i: number }) => void okDone.push(payload.i),
        },
        { concurrency: 2 },
      );
      const retried: number[] = [];
      const dead: string[] = [];
      worker.events.on('job_retried', (e) => retried.push(e.delayMs));
      worker.events.on('job_dead', (e) => dead.push(e.error.message));
      const poison = await client.queue(queue).add('poison', {}, { maxAttempts: 3, backoff: { type: 'fixed', delayMs: 300 } });
      await client.queue(queue).addBulk(Array.from({ length: 5 }, (_, i) => ({ name: 'ok', payload: { i } })));
      await until(() => dead.length === 1 && okDone.length === 5, 'poison dead and ok jobs done');
      assert.deepEqual(attempts, [1, 2, 3]);
      assert.deepEqual(retried, [300, 300]);
      assert.deepEqual(okDone.sort(), [0, 1, 2, 3, 4]);
      assert.match(dead[0]!, /poisoned on attempt 3/);
      const letters = await provider.listDeadLetters(queue);
      assert.equal(letters.length, 1);
      assert.equal(letters[0]!.job.id, poison.id);
      assert.match(letters[0]!.error, /poisoned on attempt 3/);
      await worker.stop();
    });

    it("aborts the handler's signal when the job times out, and counts it as a failure", async () => {
      const queue = freshQueueName('rt_timeout');
      let reason: unknown;
      const worker = await startWorker(queue, {
        slow: (_payload, ctx) =>
          new Promise((resolve) => {
            ctx.signal.addEventListener('abort', () => {
              reason = ctx.signal.reason;
              resolve('stopped');
            });
          }),
      });
      const dead: Error[] = [];
      worker.events.on('job_dead', (e) => dead.push(e.error));
      await client.queue(queue).add('slow', {}, { timeoutMs: 300, maxAttempts: 1 });
      await until(() => dead.length === 1, 'timed-out job dead-lettered');
      assert.ok(reason instanceof TimeoutError, 'the signal was aborted with a TimeoutError');
      assert.ok(dead[0] instanceof TimeoutError);
      const [letter] = await provider.listDeadLetters(queue);
      assert.match(letter!.error, /timeout/i);
      await worker.stop();
    });

    it('delivers delayed jobs when due (natively or held by Kairos)', async () => {
      const queue = freshQueueName('rt_delay');
      const startedAt: number[] = [];
      const worker = await startWorker(queue, { later: () => void startedAt.push(Date.now()) });
      const runAtMs = Date.now() + 1_000;
      const result = await client.queue(queue).add('later', {}, { runAt: runAtMs });
      assert.equal(result.held, !provider.capabilities.nativeDelay);
      await until(() => startedAt.length === 1, 'delayed job ran');
      assert.ok(startedAt[0]! >= runAtMs - 100, 'not run before it was due');
      await worker.stop();
    });

    it('accepts the seed call enqueueWorkflow(key, { queueProvider, context, metadata: { scheduleTime } })', async () => {
      const queue = freshQueueName('rt_seed');
      const got: unknown[] = [];
      const worker = await startWorker(queue, { daily_backup: (context, ctx) => void got.push({ context, meta: ctx.job.metadata }) });
      const scheduleTime = new Date(Date.now() + 500).toISOString();
      const result = await client.enqueueWorkflow('daily_backup', {
        queueProvider: provider.name,
        queue,
        context: { repos: ['/srv/a', '/srv/b'] },
        metadata: { scheduleTime, owner: 'ops' },
      });
      assert.equal(result.workflow, 'daily_backup');
      assert.equal(result.queueProvider, provider.name);
      assert.equal(result.taskName, `${queue}/${result.runId}`);
      assert.equal(result.scheduledFor, scheduleTime);
      assert.ok(!Number.isNaN(Date.parse(result.queuedAt)));
      await until(() => got.length === 1, 'seed job ran');
      assert.deepEqual(got[0], { context: { repos: ['/srv/a', '/srv/b'] }, meta: { owner: 'ops', scheduleTime } });
      await worker.stop();
    });

    it('graceful shutdown lets in-flight jobs finish', async () => {
      const queue = freshQueueName('rt_shutdown');
      let started = 0;
      const finished: number[] = [];
      const worker = await startWorker(
        queue,
        {
          work: async (payload: { i: number }) => {
            started += 1;
            await sleep(400);
            finished.push(payload.i);
          },
        },
        { concurrency: 3 },
      );
      await client.queue(queue).addBulk([0, 1, 2].map((i) => ({ name: 'work', payload: { i } })));
      await until(() => started === 3, 'three jobs in flight');
      await worker.stop({ timeoutMs: 10_000 });
      assert.deepEqual(finished.sort(), [0, 1, 2]);
      const stats = await provider.stats(queue);
      assert.equal(stats.active + stats.waiting, 0, 'all acked before stop resolved');
    });

    it('shutdown past its deadline aborts the handlers and returns their jobs to the queue', async () => {
      const queue = freshQueueName('rt_abort');
      let aborted = 0;
      const worker = await startWorker(queue, {
        stuck: (_p, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(void (aborted += 1)))),
      });
      await client.queue(queue).add('stuck', {});
      await until(() => worker.inFlight(queue) === 1, 'job in flight');
      await worker.stop({ timeoutMs: 100 });
      assert.equal(aborted, 1);
      const stats = await provider.stats(queue);
      assert.equal(stats.waiting, 1, 'handed back, fetchable by another worker');
      const leases = await provider.fetch(queue, { max: 1, leaseMs: 5_000, waitMs: 2_000 });
      assert.equal(leases.length, 1);
      await provider.ack(leases[0]!);
    });

    it('never runs more handlers at once than the concurrency limit', async () => {
      const queue = freshQueueName('rt_conc');
      let current = 0;
      let max = 0;
      let done = 0;
      const worker = await startWorker(
        queue,
        {
          busy: async () => {
            current += 1;
            max = Math.max(max, current);
            await sleep(30);
            current -= 1;
            done += 1;
          },
        },
        { concurrency: 4 },
      );
      await client.queue(queue).addBulk(Array.from({ length: 24 }, () => ({ name: 'busy', payload: {} })));
      await until(() => done === 24, 'all jobs done');
      assert.ok(max <= 4, `max simultaneous ${max}`);
      assert.ok(max >= 1);
      await worker.stop();
    });

    it('dead-letters a job whose key has no handler, naming the key, and keeps working', async () => {
      const queue = freshQueueName('rt_unknown');
      const ran: string[] = [];
      const worker = await startWorker(queue, { known: () => void ran.push('known') });
      const dead: Error[] = [];
      worker.events.on('job_dead', (e) => dead.push(e.error));
      await client.queue(queue).add('nobody.handles.this', {});
      await client.queue(queue).add('known', {});
      await until(() => dead.length === 1 && ran.length === 1, 'unknown dead, known ran');
      assert.equal(dead[0]!.name, 'UnknownHandlerError');
      const [letter] = await provider.listDeadLetters(queue);
      assert.match(letter!.error, /nobody\.handles\.this/);
      await worker.stop();
    });

    it('refuses oversized and unserialisable payloads and unknown providers, enqueueing nothing', async () => {
      const queue = freshQueueName('rt_refuse');
      const small = createQueueClient({ providers: provider, store, maxPayloadBytes: 1_024 });
      try {
        await assert.rejects(small.queue(queue).add('k', { blob: 'x'.repeat(2_000) }), PayloadTooLargeError);
        await assert.rejects(
          small.enqueueWorkflow('k', { queueProvider: provider.name, queue, context: { blob: 'x'.repeat(2_000) } }),
          PayloadTooLargeError,
        );
        const cycle: Record<string, unknown> = { a: 1 };
        cycle.self = cycle;
        for (const bad of [{ n: 10n }, cycle, { fn: () => 1 }, { m: new Map([[1, 2]]) }, { x: Number.NaN }]) {
          await assert.rejects(client.queue(queue).add('k', bad), PayloadNotSerializableError);
        }
        await assert.rejects(
          client.enqueueWorkflow('k', { queueProvider: provider.name, queue, context: { deep: { list: [1, 2n] } } }),
          (error: unknown) => error instanceof PayloadNotSerializableError && /context\.deep\.list\[1\]/.test(error.message),
        );
        // One bad job in a batch: none of the batch is sent.
        await assert.rejects(
          client.queue(queue).addBulk([
            { name: 'k', payload: { ok: true } },
            { name: 'k', payload: { bad: 1n } },
          ]),
          PayloadNotSerializableError,
        );
        await assert.rejects(client.enqueueWorkflow('k', { queueProvider: 'sqs', queue, context: {} }), UnknownProviderError);
        await assert.rejects(client.queue(queue).add('k', {}, { priority: 1_000 }), ConfigError);
        await assert.rejects(client.queue(queue).add('k', {}, { runAt: 'not a date' }), (e: unknown) => (e as Error).name === 'InvalidDateError');
        const stats = await provider.stats(queue);
        assert.equal(stats.waiting + stats.delayed + stats.active + stats.dead, 0, 'nothing was enqueued');
      } finally {
        await small.close();
      }
    });
  });
}
