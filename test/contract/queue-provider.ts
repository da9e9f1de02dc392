/**
 * The queue provider contract: one suite, run unchanged against every provider on its real server.
 *
 * A provider file calls `runQueueProviderContract('redis', () => createRedisProvider({...}))`. Every
 * call of `makeProvider` must return a provider isolated from every other (a fresh random key prefix,
 * stream/subject prefix or schema); the suite additionally uses a fresh random queue name per test.
 * Tests a provider cannot pass by design are skipped only where its `capabilities` say so, and the
 * reason is in the test name. There are no timing assertions: where the contract is about time (a
 * delayed job, an expired lease) the suite checks order of events, never durations.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { KairosError } from '../../src/errors.js';
import type { Lease, NewJob, QueueProvider } from '../../src/queue/contract.js';

export interface QueueProviderContractOptions {
  /** A reason to skip the whole suite (e.g. the server is not reachable), or false to run it. */
  skip?: string | false;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A queue name no other test (or earlier run) has used. */
export function freshQueueName(label: string): string {
  return `kq_${label}_${randomUUID().slice(0, 8)}`;
}

/** Fetches until `count` leases arrived or `timeoutMs` passed; returns what arrived, in delivery order. */
export async function fetchUntil(
  provider: QueueProvider,
  queue: string,
  count: number,
  options: { leaseMs?: number; timeoutMs?: number } = {},
): Promise<Lease[]> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  const leases: Lease[] = [];
  while (leases.length < count && Date.now() < deadline) {
    const waitMs = Math.max(0, Math.min(1_000, deadline - Date.now()));
    leases.push(...(await provider.fetch(queue, { max: count - leases.length, leaseMs: options.leaseMs ?? 30_000, waitMs })));
  }
  return leases;
}

function job(queue: string, overrides: Partial<NewJob> = {}): NewJob {
  return { queue, name: 'contract.job', payload: { n: 0 }, ...overrides };
}

export function runQueueProviderContract(
  name: string,
  makeProvider: () => Promise<QueueProvider>,
  options: QueueProviderContractOptions = {},
): void {
  describe(`queue provider contract: ${name}`, { skip: options.skip ?? false }, () => {
    let provider: QueueProvider;
    const extraProviders: QueueProvider[] = [];

    before(async () => {
      provider = await makeProvider();
      await provider.connect();
    });
    after(async () => {
      for (const p of extraProviders) await p.close().catch(() => undefined);
      await provider?.close();
    });

    async function queueFor(label: string): Promise<string> {
      const queue = freshQueueName(label);
      await provider.ensureQueue(queue);
      return queue;
    }

    it('enqueues a single job and delivers it with every field intact', async () => {
      const queue = await queueFor('single');
      const before = Date.now();
      const [result] = await provider.enqueue([
        job(queue, {
          name: 'reports.daily',
          payload: { repos: ['/a', '/b'] },
          maxAttempts: 5,
          backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 1_000, jitter: 0.5 },
          timeoutMs: 2_000,
          metadata: { scheduleTime: '2026-02-07T02:00:00Z' },
        }),
      ]);
      assert.ok(result);
      assert.equal(result.deduplicated, false);
      assert.equal(typeof result.id, 'string');
      const [lease] = await fetchUntil(provider, queue, 1);
      assert.ok(lease, 'the job was delivered');
      const delivered = lease.job;
      assert.equal(delivered.id, result.id);
      assert.equal(delivered.queue, queue);
      assert.equal(delivered.name, 'reports.daily');
      assert.deepEqual(delivered.payload, { repos: ['/a', '/b'] });
      assert.equal(delivered.attempt, 1);
      assert.equal(delivered.maxAttempts, 5);
      assert.deepEqual(delivered.backoff, { type: 'exponential', delayMs: 100, maxDelayMs: 1_000, jitter: 0.5 });
      assert.equal(delivered.timeoutMs, 2_000);
      assert.deepEqual(delivered.metadata, { scheduleTime: '2026-02-07T02:00:00Z' });
      assert.ok(delivered.createdAtMs >= before - 5_000 && delivered.createdAtMs <= Date.now() + 5_000);
      assert.equal(typeof lease.token, 'string');
      assert.ok(lease.leaseUntilMs > Date.now());
      await provider.ack(lease);
    });

    it('applies defaults: attempt 1 of 3, priority 0, no backoff, no timeout, empty metadata', async () => {
      const queue = await queueFor('defaults');
      await provider.enqueue([job(queue)]);
      const [lease] = await fetchUntil(provider, queue, 1);
      assert.ok(lease);
      assert.equal(lease.job.maxAttempts, 3);
      assert.equal(lease.job.priority, 0);
      assert.equal(lease.job.backoff, null);
      assert.equal(lease.job.timeoutMs, null);
      assert.deepEqual(lease.job.metadata, {});
      assert.equal(lease.job.lastError, null);
      await provider.ack(lease);
    });

    it('enqueues a batch in one call, one result per job in order, distinct ids', async () => {
      const queue = await queueFor('batch');
      const jobs = Array.from({ length: 50 }, (_, i) => job(queue, { payload: { i } }));
      const results = await provider.enqueue(jobs);
      assert.equal(results.length, 50);
      assert.equal(new Set(results.map((r) => r.id)).size, 50);
      assert.ok(results.every((r) => !r.deduplicated));
      const leases = await fetchUntil(provider, queue, 50);
      assert.equal(leases.length, 50);
      assert.deepEqual(new Set(leases.map((l) => l.job.id)), new Set(results.map((r) => r.id)));
      for (const lease of leases) await provider.ack(lease);
    });

    it('fetch never returns more than max', async () => {
      const queue = await queueFor('max');
      await provider.enqueue(Array.from({ length: 12 }, (_, i) => job(queue, { payload: { i } })));
      const first = await provider.fetch(queue, { max: 5, leaseMs: 30_000, waitMs: 2_000 });
      assert.ok(first.length >= 1 && first.length <= 5, `got ${first.length}`);
      const rest = await fetchUntil(provider, queue, 12 - first.length);
      assert.equal(first.length + rest.length, 12);
      for (const lease of [...first, ...rest]) await provider.ack(lease);
    });

    it('keeps caller-chosen ids', async () => {
      const queue = await queueFor('ids');
      const id = `job-${randomUUID()}`;
      const [result] = await provider.enqueue([job(queue, { id })]);
      assert.equal(result?.id, id);
      const [lease] = await fetchUntil(provider, queue, 1);
      assert.equal(lease?.job.id, id);
      await provider.ack(lease);
    });

    it('deduplicates by id: every later enqueue returns deduplicated and the same id, one job runs', async () => {
      const queue = await queueFor('dedup_id');
      const id = `dup-${randomUUID()}`;
      const [first] = await provider.enqueue([job(queue, { id, payload: { v: 1 } })]);
      const [second] = await provider.enqueue([job(queue, { id, payload: { v: 2 } })]);
      // A third time too: a refused re-send must not give back the live job's own claim on its id.
      const [third] = await provider.enqueue([job(queue, { id, payload: { v: 3 } })]);
      assert.deepEqual(first, { id, deduplicated: false });
      assert.deepEqual(second, { id, deduplicated: true });
      assert.deepEqual(third, { id, deduplicated: true });
      const leases = await fetchUntil(provider, queue, 1);
      assert.equal(leases.length, 1);
      assert.deepEqual(leases[0]!.job.payload, { v: 1 }, 'the first job is kept');
      assert.deepEqual(await provider.fetch(queue, { max: 5, leaseMs: 30_000, waitMs: 300 }), []);
      await provider.ack(leases[0]!);
    });

    it('deduplicates by dedupKey while the first job is live, and accepts the key again once it completed', async (t) => {
      if (!provider.capabilities.nativeDedup) {
        t.skip('capabilities.nativeDedup is false: dedup keys are enforced by the Kairos client, see the runtime contract');
        return;
      }
      const queue = await queueFor('dedup_key');
      const dedupKey = `key-${randomUUID()}`;
      const [first] = await provider.enqueue([job(queue, { dedupKey, payload: { v: 1 } })]);
      const [second] = await provider.enqueue([job(queue, { dedupKey, payload: { v: 2 } })]);
      assert.ok(first && second);
      assert.equal(first.deduplicated, false);
      assert.equal(second.deduplicated, true);
      assert.equal(second.id, first.id);
      // Within one batch too.
      const batch = await provider.enqueue([job(queue, { dedupKey }), job(queue, { dedupKey })]);
      assert.ok(batch.every((r) => r.deduplicated && r.id === first.id));
      const leases = await fetchUntil(provider, queue, 1);
      assert.equal(leases.length, 1);
      assert.equal(leases[0]!.job.dedupKey, dedupKey);
      assert.deepEqual(await provider.fetch(queue, { max: 5, leaseMs: 30_000, waitMs: 300 }), []);
      await provider.ack(leases[0]!);
      const [third] = await provider.enqueue([job(queue, { dedupKey, payload: { v: 3 } })]);
      assert.equal(third?.deduplicated, false);
      assert.notEqual(third?.id, first.id);
      const [again] = await fetchUntil(provider, queue, 1);
      assert.deepEqual(again?.job.payload, { v: 3 });
      await provider.ack(again);
    });

    it('delivers FIFO within one priority', async (t) => {
      if (provider.capabilities.ordering !== 'fifo') {
        t.skip("capabilities.ordering is 'none': the backend does not promise an order");
        return;
      }
      const queue = await queueFor('fifo');
      for (let i = 0; i < 6; i += 1) await provider.enqueue([job(queue, { payload: { i } })]);
      await provider.enqueue(Array.from({ length: 4 }, (_, k) => job(queue, { payload: { i: 6 + k } })));
      const order: number[] = [];
      const leases: Lease[] = [];
      while (order.length < 10) {
        const got = await fetchUntil(provider, queue, 1);
        assert.equal(got.length, 1, 'a job is ready');
        leases.push(got[0]!);
        order.push((got[0]!.job.payload as { i: number }).i);
      }
      assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      for (const lease of leases) await provider.ack(lease);
    });

    it('delivers higher priority first', async (t) => {
      if (!provider.capabilities.priority) {
        t.skip('capabilities.priority is false: the backend has no priorities');
        return;
      }
      const queue = await queueFor('priority');
      await provider.enqueue([job(queue, { payload: 'low', priority: -5 })]);
      await provider.enqueue([job(queue, { payload: 'normal' })]);
      await provider.enqueue([job(queue, { payload: 'high', priority: 10 }), job(queue, { payload: 'mid', priority: 3 })]);
      const order: unknown[] = [];
      const leases: Lease[] = [];
      while (order.length < 4) {
        const got = await fetchUntil(provider, queue, 1);
        assert.equal(got.length, 1);
        leases.push(got[0]!);
        order.push(got[0]!.job.payload);
      }
      assert.deepEqual(order, ['high', 'mid', 'normal', 'low']);
      for (const lease of leases) await provider.ack(lease);
    });

    it('does not deliver a delayed job before its runAtMs, then delivers it', async (t) => {
      if (!provider.capabilities.nativeDelay) {
        t.skip('capabilities.nativeDelay is false: Kairos holds delayed jobs (runtime contract covers it)');
        return;
      }
      const queue = await queueFor('delayed');
      const runAtMs = Date.now() + 1_500;
      const [result] = await provider.enqueue([job(queue, { runAtMs, payload: 'later' })]);
      assert.deepEqual(await provider.fetch(queue, { max: 1, leaseMs: 30_000, waitMs: 0 }), []);
      const stats = await provider.stats(queue);
      assert.equal(stats.delayed, 1);
      assert.equal(stats.waiting, 0);
      const [lease] = await fetchUntil(provider, queue, 1, { timeoutMs: 20_000 });
      const deliveredAtMs = Date.now();
      assert.equal(lease?.job.id, result?.id);
      // Order of events, not a duration: it was not handed out before it was due (100 ms for clock reads).
      assert.ok(deliveredAtMs >= runAtMs - 100, `delivered ${runAtMs - deliveredAtMs} ms early`);
      assert.equal(lease!.job.runAtMs, runAtMs);
      await provider.ack(lease!);
    });

    it('ack removes the job', async () => {
      const queue = await queueFor('ack');
      const [result] = await provider.enqueue([job(queue)]);
      const [lease] = await fetchUntil(provider, queue, 1);
      await provider.ack(lease!);
      const stats = await provider.stats(queue);
      assert.equal(stats.waiting + stats.active + stats.delayed + stats.dead, 0);
      assert.deepEqual(await provider.fetch(queue, { max: 1, leaseMs: 500, waitMs: 300 }), []);
      if (provider.getJob) assert.equal(await provider.getJob(queue, result!.id), null);
    });

    it('retry now: the job comes back with attempt + 1 and its last error', async () => {
      const queue = await queueFor('retry_now');
      const [result] = await provider.enqueue([job(queue)]);
      const [first] = await fetchUntil(provider, queue, 1);
      assert.equal(first?.job.attempt, 1);
      await provider.retry(first, { runAtMs: Date.now(), error: 'boom 1' });
      const [second] = await fetchUntil(provider, queue, 1);
      assert.equal(second?.job.id, result!.id);
      assert.equal(second?.job.attempt, 2);
      assert.equal(second?.job.lastError, 'boom 1');
      await provider.ack(second);
    });

    it('retry later: the job waits until its new run time', async (t) => {
      if (!provider.capabilities.nativeDelay) {
        t.skip('capabilities.nativeDelay is false: the runtime holds delayed retries in Kairos');
        return;
      }
      const queue = await queueFor('retry_later');
      await provider.enqueue([job(queue)]);
      const [first] = await fetchUntil(provider, queue, 1);
      const runAtMs = Date.now() + 1_200;
      await provider.retry(first!, { runAtMs, error: 'later' });
      assert.deepEqual(await provider.fetch(queue, { max: 1, leaseMs: 30_000, waitMs: 0 }), []);
      assert.equal((await provider.stats(queue)).delayed, 1);
      const [second] = await fetchUntil(provider, queue, 1, { timeoutMs: 20_000 });
      assert.ok(Date.now() >= runAtMs - 100, 'not redelivered before its run time');
      assert.equal(second?.job.attempt, 2);
      await provider.ack(second);
    });

    it('dead letters are listed, read by id, replayed with attempts reset, and purged', async () => {
      const queue = await queueFor('dlq');
      const results = await provider.enqueue([job(queue, { payload: 'a' }), job(queue, { payload: 'b' }), job(queue, { payload: 'c' })]);
      const leases = await fetchUntil(provider, queue, 3);
      assert.equal(leases.length, 3);
      for (const lease of leases) await provider.deadLetter(lease, `dead ${String(lease.job.payload)}`);
      const listed = await provider.listDeadLetters(queue);
      assert.equal(listed.length, 3);
      assert.deepEqual(new Set(listed.map((d) => d.job.id)), new Set(results.map((r) => r.id)));
      for (const dead of listed) {
        assert.equal(dead.error, `dead ${String(dead.job.payload)}`);
        assert.ok(dead.deadAtMs > 0);
      }
      assert.equal((await provider.listDeadLetters(queue, { limit: 2 })).length, 2);
      assert.equal((await provider.stats(queue)).dead, 3);

      const idA = leases.find((l) => l.job.payload === 'a')!.job.id;
      const idB = leases.find((l) => l.job.payload === 'b')!.job.id;
      const one = await provider.getDeadLetter(queue, idA);
      assert.equal(one?.job.id, idA);
      assert.equal(one?.error, 'dead a');
      assert.equal(await provider.getDeadLetter(queue, 'no-such-job'), null);

      assert.equal(await provider.replayDeadLetters(queue, [idA]), 1);
      const [replayed] = await fetchUntil(provider, queue, 1);
      assert.equal(replayed?.job.id, idA);
      assert.equal(replayed?.job.attempt, 1, 'attempts reset');
      assert.deepEqual(replayed?.job.payload, 'a');
      await provider.ack(replayed);

      assert.equal(await provider.purgeDeadLetters(queue, [idB]), 1);
      assert.equal(await provider.getDeadLetter(queue, idB), null);
      const left = await provider.listDeadLetters(queue);
      assert.deepEqual(left.map((d) => d.job.payload), ['c']);
      assert.equal(await provider.replayDeadLetters(queue), 1);
      const [c] = await fetchUntil(provider, queue, 1);
      await provider.deadLetter(c!, 'again');
      assert.equal(await provider.purgeDeadLetters(queue), 1);
      assert.deepEqual(await provider.listDeadLetters(queue), []);
      assert.equal((await provider.stats(queue)).dead, 0);
    });

    it('redelivers a job whose lease expired (stalled worker) to another fetch, and the old lease is lost', async () => {
      const queue = await queueFor('lease');
      const [result] = await provider.enqueue([job(queue)]);
      const [stalled] = await provider.fetch(queue, { max: 1, leaseMs: 400, waitMs: 2_000 });
      assert.equal(stalled?.job.id, result!.id);
      // Nothing acks it: the worker "died". Another fetch gets it once the lease ran out.
      const [reclaimed] = await fetchUntil(provider, queue, 1, { leaseMs: 30_000, timeoutMs: 30_000 });
      assert.equal(reclaimed?.job.id, result!.id);
      assert.equal(reclaimed?.job.attempt, 2, 'a stalled delivery counts as an attempt');
      assert.equal(await provider.extendLease(stalled, 30_000), false, 'the stalled lease is lost');
      await provider.ack(reclaimed);
      assert.deepEqual(await provider.fetch(queue, { max: 1, leaseMs: 500, waitMs: 300 }), []);
    });

    it('extendLease keeps the job leased past its first lease', async () => {
      const queue = await queueFor('extend');
      await provider.enqueue([job(queue)]);
      const [lease] = await provider.fetch(queue, { max: 1, leaseMs: 1_000, waitMs: 2_000 });
      assert.ok(lease);
      const extendedUntil = Date.now() + 1_000;
      for (let i = 0; i < 4; i += 1) {
        await sleep(400);
        assert.equal(await provider.extendLease(lease, 1_500), true);
      }
      // 1.6 s have passed since the fetch, past the first 1 s lease: the job is still ours.
      assert.ok(Date.now() > extendedUntil);
      assert.deepEqual(await provider.fetch(queue, { max: 1, leaseMs: 30_000, waitMs: 0 }), []);
      await provider.ack(lease);
    });

    it('reports stats (waiting, active, delayed, dead, oldest waiting age) and health', async () => {
      const queue = await queueFor('stats');
      const empty = await provider.stats(queue);
      assert.deepEqual(
        { queue: empty.queue, waiting: empty.waiting, active: empty.active, delayed: empty.delayed, dead: empty.dead },
        { queue, waiting: 0, active: 0, delayed: 0, dead: 0 },
      );
      assert.equal(empty.oldestWaitingAgeMs, null);
      await provider.enqueue([job(queue, { payload: 1 }), job(queue, { payload: 2 }), job(queue, { payload: 3 })]);
      if (provider.capabilities.nativeDelay) await provider.enqueue([job(queue, { runAtMs: Date.now() + 60_000 })]);
      const leases = await fetchUntil(provider, queue, 2);
      await provider.deadLetter(leases[1]!, 'x');
      const stats = await provider.stats(queue);
      assert.equal(stats.waiting, 1);
      assert.equal(stats.active, 1);
      assert.equal(stats.delayed, provider.capabilities.nativeDelay ? 1 : 0);
      assert.equal(stats.dead, 1);
      if (stats.oldestWaitingAgeMs !== null) assert.ok(stats.oldestWaitingAgeMs >= 0);
      const health = await provider.health();
      assert.equal(health.ok, true);
      assert.ok(health.latencyMs >= 0);
      await provider.ack(leases[0]!);
    });

    it('lists and gets jobs by state', async (t) => {
      if (!provider.capabilities.inspect || !provider.getJob || !provider.listJobs) {
        t.skip('capabilities.inspect is false: a broker is transport, Kairos records what the UI shows');
        return;
      }
      const queue = await queueFor('inspect');
      const [a, b] = await provider.enqueue([job(queue, { payload: 'a' }), job(queue, { payload: 'b' })]);
      assert.equal((await provider.getJob(queue, a!.id))?.state, 'waiting');
      const [lease] = await fetchUntil(provider, queue, 1);
      const activeId = lease!.job.id;
      const waitingId = activeId === a!.id ? b!.id : a!.id;
      assert.equal((await provider.getJob(queue, activeId))?.state, 'active');
      assert.deepEqual((await provider.listJobs(queue, 'waiting')).map((j) => j.id), [waitingId]);
      assert.deepEqual((await provider.listJobs(queue, 'active')).map((j) => j.id), [activeId]);
      await provider.deadLetter(lease!, 'x');
      assert.equal((await provider.getJob(queue, activeId))?.state, 'dead');
      if (provider.capabilities.nativeDelay) {
        const [d] = await provider.enqueue([job(queue, { runAtMs: Date.now() + 60_000 })]);
        assert.equal((await provider.getJob(queue, d!.id))?.state, 'delayed');
        assert.deepEqual((await provider.listJobs(queue, 'delayed')).map((j) => j.id), [d!.id]);
      }
      assert.equal(await provider.getJob(queue, 'missing'), null);
    });

    it('long-poll fetch started before the enqueue returns the job', async () => {
      const queue = await queueFor('longpoll');
      let settled = false;
      const pending = provider.fetch(queue, { max: 1, leaseMs: 30_000, waitMs: 10_000 }).finally(() => {
        settled = true;
      });
      await sleep(200);
      assert.equal(settled, false, 'the fetch is waiting (it started before the job existed)');
      const [result] = await provider.enqueue([job(queue, { payload: 'wake' })]);
      const leases = await pending;
      assert.equal(leases.length, 1, 'the waiting fetch got the job');
      assert.equal(leases[0]!.job.id, result!.id);
      await provider.ack(leases[0]!);
    });

    it('an aborted long-poll returns without a job', async () => {
      const queue = await queueFor('abort');
      const controller = new AbortController();
      const pending = provider.fetch(queue, { max: 1, leaseMs: 30_000, waitMs: 30_000, signal: controller.signal });
      await sleep(100);
      controller.abort();
      assert.deepEqual(await pending, []);
    });

    it('round-trips nested JSON and unicode payloads', async () => {
      const queue = await queueFor('payload');
      const payload = {
        text: 'héllo wörld — 你好，世界 — مرحبا — 🚀🧪👩‍💻',
        nested: { deep: { deeper: [1, 2.5, -3, { x: null, y: true, z: false }] } },
        empty: { obj: {}, arr: [], str: '' },
        big: 'x'.repeat(50_000),
        escapes: 'quote " backslash \\ newline \n tab \t nul-free',
        numbers: [0, -0.5, 1e21, Number.MAX_SAFE_INTEGER],
      };
      await provider.enqueue([job(queue, { payload, metadata: { note: 'ünïcødé ✓' } })]);
      const [lease] = await fetchUntil(provider, queue, 1);
      assert.deepEqual(lease?.job.payload, payload);
      assert.deepEqual(lease?.job.metadata, { note: 'ünïcødé ✓' });
      await provider.ack(lease);
    });

    it('round-trips payloads that are not objects: none, null, a string, a number, an array', async () => {
      const queue = await queueFor('scalars');
      const payloads: unknown[] = [undefined, null, 'just text', 42, [1, 'two', null]];
      const results = await provider.enqueue(payloads.map((payload) => job(queue, { payload })));
      const byId = new Map<string, unknown>();
      results.forEach((result, index) => byId.set(result.id, payloads[index] ?? null));
      const leases = await fetchUntil(provider, queue, payloads.length);
      assert.equal(leases.length, payloads.length);
      for (const lease of leases) assert.deepEqual(lease.job.payload, byId.get(lease.job.id));
      for (const lease of leases) await provider.ack(lease);
    });

    it('carries an attempt count handed back by Kairos (NewJob.attempt)', async () => {
      const queue = await queueFor('attempt');
      await provider.enqueue([job(queue, { attempt: 2, lastError: 'earlier failure' })]);
      const [lease] = await fetchUntil(provider, queue, 1);
      assert.equal(lease?.job.attempt, 3);
      assert.equal(lease?.job.lastError, 'earlier failure');
      await provider.ack(lease);
    });

    it('after close(), further use fails with a KairosError', async () => {
      const closing = await makeProvider();
      extraProviders.push(closing);
      await closing.connect();
      const queue = freshQueueName('closed');
      await closing.ensureQueue(queue);
      await closing.close();
      await assert.rejects(closing.enqueue([job(queue)]), (error: unknown) => error instanceof KairosError);
      await assert.rejects(closing.fetch(queue, { max: 1, leaseMs: 1_000, waitMs: 0 }), (error: unknown) => error instanceof KairosError);
      await closing.close(); // idempotent
    });
  });
}
