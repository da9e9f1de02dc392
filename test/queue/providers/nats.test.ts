import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { ConfigError, ProviderUnavailableError } from '../../../src/errors.js';
import { createNatsProvider } from '../../../src/queue/providers/nats.js';
import { fetchUntil, freshQueueName, runQueueProviderContract } from '../../contract/queue-provider.js';
import { runQueueRuntimeContract } from '../../contract/queue-runtime.js';
import { SERVICES, serviceSkip } from '../../support/services.js';
import { startCutProxy, tempLedgerStore } from './broker-support.js';

const skip = await serviceSkip('nats', 'nats provider');
const { store, dispose } = tempLedgerStore('nats');
const prefixes: string[] = [];

function makeProvider(label = 'c') {
  const prefix = `kt_${label}_${randomUUID().slice(0, 8)}`;
  prefixes.push(prefix);
  return createNatsProvider({ servers: SERVICES.nats.url, prefix, store });
}

/** Deletes every stream this file created (their names start with one of our prefixes). */
async function deleteStreams(): Promise<void> {
  const nc = await connect({ servers: SERVICES.nats.url });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const info of jsm.streams.list()) {
      if (prefixes.some((p) => info.config.name.startsWith(`${p}_`))) await jsm.streams.delete(info.config.name);
    }
  } finally {
    await nc.close();
  }
}

after(async () => {
  if (skip === false) await deleteStreams();
  await dispose();
});

runQueueProviderContract('nats', () => Promise.resolve(makeProvider()), { skip });
runQueueRuntimeContract('nats', () => Promise.resolve(makeProvider('rt')), { skip });

describe('nats provider specifics', { skip }, () => {
  it('names the address when the server is down at start', async () => {
    const provider = createNatsProvider({ servers: 'nats://127.0.0.1:1', store, connectAttempts: 2, connectBackoffMs: 10 });
    await assert.rejects(provider.connect(), (error: unknown) => error instanceof ProviderUnavailableError && /127\.0\.0\.1:1/.test(error.message));
  });

  it('needs a store for its ledger', () => {
    assert.throws(() => createNatsProvider({ servers: SERVICES.nats.url }), ConfigError);
  });

  it('refuses a delayed job rather than deliver it early (Kairos holds delays for NATS)', async () => {
    const provider = makeProvider('delay');
    await provider.connect();
    try {
      const queue = freshQueueName('delay');
      await assert.rejects(provider.enqueue([{ queue, name: 'd', payload: 1, runAtMs: Date.now() + 60_000 }]), ConfigError);
      assert.equal((await provider.stats(queue)).waiting, 0, 'nothing was published');
    } finally {
      await provider.close();
    }
  });

  it('a job handed back after Kairos held it (attempt > 0) is not swallowed by the duplicate window of its first publish', async () => {
    const provider = makeProvider('held');
    await provider.connect();
    try {
      const queue = freshQueueName('held');
      const [first] = await provider.enqueue([{ queue, name: 'h', payload: 1, id: 'job-held-1' }]);
      assert.equal(first?.deduplicated, false);
      const [lease] = await fetchUntil(provider, queue, 1);
      await provider.ack(lease!);
      // What the DelayDispatcher sends for a held retry: the same id, the attempts made so far.
      const [handed] = await provider.enqueue([{ queue, name: 'h', payload: 1, id: 'job-held-1', attempt: 1, lastError: 'boom' }]);
      assert.deepEqual(handed, { id: 'job-held-1', deduplicated: false });
      const [again] = await provider.enqueue([{ queue, name: 'h', payload: 1, id: 'job-held-1', attempt: 1, lastError: 'boom' }]);
      assert.equal(again?.deduplicated, true, 'a repeated hand-over of the same attempt is still one message');
      const [second] = await fetchUntil(provider, queue, 1);
      assert.equal(second?.job.attempt, 2);
      assert.equal(second?.job.lastError, 'boom');
      await provider.ack(second);
      assert.equal((await provider.stats(queue)).waiting, 0);
    } finally {
      await provider.close();
    }
  });

  it('hands pulled-ahead messages back on close, so another process gets them at once', async () => {
    const prefix = `kt_pf_${randomUUID().slice(0, 8)}`;
    prefixes.push(prefix);
    const a = createNatsProvider({ servers: SERVICES.nats.url, prefix, store, prefetch: 32 });
    const b = createNatsProvider({ servers: SERVICES.nats.url, prefix, store });
    await a.connect();
    await b.connect();
    try {
      const queue = freshQueueName('prefetch');
      const ids = (await a.enqueue(Array.from({ length: 10 }, (_, i) => ({ queue, name: 'p', payload: i })))).map((r) => r.id);
      const [one] = await fetchUntil(a, queue, 1, { leaseMs: 60_000 });
      const stats = await a.stats(queue);
      assert.equal(stats.active, 1, 'only the job handed out is active');
      assert.equal(stats.waiting, 9, 'pulled-ahead messages still count as waiting');
      await a.ack(one!);
      await a.close();
      // Well within the 60 s ack wait: only a NAK on close makes them available now.
      const rest = await fetchUntil(b, queue, 9, { leaseMs: 60_000 });
      for (const lease of rest) await b.ack(lease);
      assert.deepEqual(new Set([one!, ...rest].map((l) => l.job.id)), new Set(ids));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('a short lease keeps its pulled-ahead messages: the next fetch gets them on their first attempt', async () => {
    const provider = makeProvider('short');
    await provider.connect();
    try {
      const queue = freshQueueName('short');
      await provider.enqueue(Array.from({ length: 5 }, (_, i) => ({ queue, name: 's', payload: i })));
      const [first] = await fetchUntil(provider, queue, 1, { leaseMs: 600 });
      const rest = await provider.fetch(queue, { max: 4, leaseMs: 600, waitMs: 0 });
      assert.equal(rest.length, 4, 'served from the buffer, not dropped as stale');
      assert.deepEqual(
        rest.map((l) => l.job.attempt),
        [1, 1, 1, 1],
      );
      for (const lease of [first!, ...rest]) await provider.ack(lease);
    } finally {
      await provider.close();
    }
  });

  it('dedupKey holds through the ledger until the job is acked', async () => {
    const provider = makeProvider('dkey');
    await provider.connect();
    try {
      const queue = freshQueueName('dkey');
      const [a] = await provider.enqueue([{ queue, name: 'k', payload: 1, dedupKey: 'nightly' }]);
      const [b] = await provider.enqueue([{ queue, name: 'k', payload: 2, dedupKey: 'nightly' }]);
      assert.deepEqual(b, { id: a!.id, deduplicated: true });
      const [lease] = await fetchUntil(provider, queue, 1);
      await provider.ack(lease!);
      const [c] = await provider.enqueue([{ queue, name: 'k', payload: 3, dedupKey: 'nightly' }]);
      assert.equal(c?.deduplicated, false);
      const [again] = await fetchUntil(provider, queue, 1);
      await provider.ack(again!);
    } finally {
      await provider.close();
    }
  });

  it('survives a dropped connection: every job enqueued before and after the drop is delivered', async () => {
    const proxy = await startCutProxy(SERVICES.nats.host, SERVICES.nats.port);
    const prefix = `kt_cut_${randomUUID().slice(0, 8)}`;
    prefixes.push(prefix);
    const provider = createNatsProvider({ servers: `nats://127.0.0.1:${proxy.port}`, prefix, store });
    await provider.connect();
    const queue = freshQueueName('reconnect');
    try {
      const before = await provider.enqueue(Array.from({ length: 10 }, (_, i) => ({ queue, name: 'r', payload: i })));
      const got = await fetchUntil(provider, queue, 5, { leaseMs: 2_000 });
      assert.ok(proxy.cutAll() > 0, 'a connection was cut');
      // Acks of the cut connection may be lost: those jobs come back after their lease (at-least-once).
      for (const lease of got) await provider.ack(lease).catch(() => undefined);
      const afterIds = await provider.enqueue(Array.from({ length: 5 }, (_, i) => ({ queue, name: 'r', payload: 10 + i })));
      const seen = new Set(got.map((l) => l.job.id));
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline && (await provider.stats(queue)).waiting + (await provider.stats(queue)).active > 0) {
        for (const lease of await provider.fetch(queue, { max: 10, leaseMs: 2_000, waitMs: 500 })) {
          seen.add(lease.job.id);
          await provider.ack(lease);
        }
      }
      assert.deepEqual(seen, new Set([...before, ...afterIds].map((r) => r.id)));
      assert.equal((await provider.health()).ok, true);
    } finally {
      await provider.close();
      await proxy.close();
    }
  });
});
