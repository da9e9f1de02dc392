import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import amqp from 'amqplib';
import { ConfigError, ProviderUnavailableError } from '../../../src/errors.js';
import type { QueueProvider } from '../../../src/queue/contract.js';
import { toJob } from '../../../src/queue/providers/broker/jobs.js';
import { createRabbitmqProvider, type RabbitmqProviderOptions } from '../../../src/queue/providers/rabbitmq.js';
import { fetchUntil, freshQueueName, runQueueProviderContract } from '../../contract/queue-provider.js';
import { runQueueRuntimeContract } from '../../contract/queue-runtime.js';
import { SERVICES, serviceSkip } from '../../support/services.js';
import { startCutProxy, tempLedgerStore } from './broker-support.js';

const skip = await serviceSkip('rabbitmq', 'rabbitmq provider');
const { store, dispose } = tempLedgerStore('rabbitmq');
/** Every AMQP queue and exchange this file declared, deleted after. */
const created = new Set<string>();

function makeProvider(label = 'c', extra: Partial<RabbitmqProviderOptions> = {}) {
  const prefix = `kt_${label}_${randomUUID().slice(0, 8)}`;
  created.add(prefix);
  return createRabbitmqProvider({ url: SERVICES.rabbitmq.url, prefix, store, ...extra });
}

/** Deletes the queues (and dead queues, and the DLX) under our prefixes, found through the ledger-free naming scheme. */
async function cleanup(queues: readonly string[]): Promise<void> {
  const conn = await amqp.connect(SERVICES.rabbitmq.url);
  try {
    for (const prefix of created) {
      for (const q of queues) {
        const ch = await conn.createChannel();
        ch.on('error', () => undefined);
        await ch.deleteQueue(`${prefix}.${q}`).catch(() => undefined);
        await ch.deleteQueue(`${prefix}.${q}.dead`).catch(() => undefined);
        await ch.close().catch(() => undefined);
      }
      const ch = await conn.createChannel();
      ch.on('error', () => undefined);
      await ch.deleteExchange(`${prefix}.dlx`).catch(() => undefined);
      await ch.close().catch(() => undefined);
    }
  } finally {
    await conn.close();
  }
}

// Queue names are random per test; record every queue a provider touches (a queue is declared on
// first use by ensureQueue, enqueue, fetch or stats) so `after` can delete them.
const queueNames = new Set<string>();
function tracked(provider: QueueProvider): QueueProvider {
  const ensureQueue = provider.ensureQueue.bind(provider);
  const enqueue = provider.enqueue.bind(provider);
  const fetch = provider.fetch.bind(provider);
  const stats = provider.stats.bind(provider);
  provider.ensureQueue = (q) => (queueNames.add(q), ensureQueue(q));
  provider.stats = (q) => (queueNames.add(q), stats(q));
  provider.fetch = (q, o) => (queueNames.add(q), fetch(q, o));
  provider.enqueue = (jobs) => {
    for (const job of jobs) queueNames.add(job.queue);
    return enqueue(jobs);
  };
  return provider;
}

/** The keys RabbitMQ jobs of `queue` hold in the ledger, sorted. */
function ledgerKeys(queue: string): string[] {
  const rows = store.db.prepare("SELECT dedup_key AS key FROM broker_dedup_keys WHERE provider = 'rabbitmq' AND queue = ? ORDER BY dedup_key").all(queue) as { key: string }[];
  return rows.map((r) => r.key);
}

after(async () => {
  if (skip === false) await cleanup([...queueNames]);
  await dispose();
});

runQueueProviderContract('rabbitmq (quorum queues)', () => Promise.resolve(tracked(makeProvider('q'))), { skip });
runQueueProviderContract('rabbitmq (classic queues with priority)', () => Promise.resolve(tracked(makeProvider('cl', { queueType: 'classic' }))), { skip });
runQueueRuntimeContract('rabbitmq', () => Promise.resolve(tracked(makeProvider('rt'))), { skip });

describe('rabbitmq provider specifics', { skip }, () => {
  it('names the redacted address when the server is down at start', async () => {
    const provider = createRabbitmqProvider({ url: 'amqp://guest:secret@127.0.0.1:1', store, connectAttempts: 2, connectBackoffMs: 10 });
    await assert.rejects(provider.connect(), (error: unknown) => {
      assert.ok(error instanceof ProviderUnavailableError);
      assert.match(error.message, /127\.0\.0\.1:1/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    });
  });

  it('needs a store for its ledger', () => {
    assert.throws(() => createRabbitmqProvider({ url: SERVICES.rabbitmq.url }), ConfigError);
  });

  it('a dropped connection returns unacked jobs to the queue; the provider reconnects and nothing is lost', async () => {
    const proxy = await startCutProxy(SERVICES.rabbitmq.host, SERVICES.rabbitmq.port);
    const prefix = `kt_cut_${randomUUID().slice(0, 8)}`;
    created.add(prefix);
    const provider = tracked(createRabbitmqProvider({ url: `amqp://guest:guest@127.0.0.1:${proxy.port}`, prefix, store }));
    await provider.connect();
    const queue = freshQueueName('reconnect');
    await provider.ensureQueue(queue);
    try {
      const before = await provider.enqueue(Array.from({ length: 10 }, (_, i) => ({ queue, name: 'r', payload: i })));
      const got = await fetchUntil(provider, queue, 5);
      assert.ok(proxy.cutAll() > 0, 'a connection was cut');
      // These acks go nowhere: their deliveries died with the connection and come back. An ack the
      // broker could not confirm rejects; one whose channel is already known gone resolves.
      for (const lease of got) await provider.ack(lease).catch((error: unknown) => assert.ok(error instanceof ProviderUnavailableError));
      const seen = new Set<string>();
      const deadline = Date.now() + 20_000;
      let afterIds: string[] = [];
      while (Date.now() < deadline && afterIds.length === 0) {
        afterIds = await provider
          .enqueue(Array.from({ length: 5 }, (_, i) => ({ queue, name: 'r', payload: 10 + i })))
          .then((r) => r.map((x) => x.id))
          .catch(() => []);
        if (afterIds.length === 0) await new Promise((r) => setTimeout(r, 200));
      }
      const all = new Set([...before.map((r) => r.id), ...afterIds]);
      while (Date.now() < deadline && seen.size < all.size) {
        const leases = await provider.fetch(queue, { max: 10, leaseMs: 5_000, waitMs: 500 }).catch(() => []);
        for (const lease of leases) {
          seen.add(lease.job.id);
          await provider.ack(lease);
        }
      }
      assert.deepEqual(seen, all);
    } finally {
      await provider.close();
      await proxy.close();
    }
  });

  it('claims in the ledger only what can collide: a chosen id and a dedup key, held through a retry and released on ack', async () => {
    const provider = tracked(makeProvider('claims'));
    await provider.connect();
    const queue = freshQueueName('claims');
    const keys = () => ledgerKeys(queue);
    try {
      const [generated] = await provider.enqueue([{ queue, name: 'g', payload: null }]);
      assert.deepEqual(keys(), [], 'a generated id is unique by construction: no claim');
      await provider.enqueue([{ queue, name: 'c', payload: null, id: 'chosen-1' }, { queue, name: 'k', payload: null, dedupKey: 'key-1' }]);
      const [keyed] = await provider.enqueue([{ queue, name: 'k', payload: null, dedupKey: 'key-1' }]);
      assert.equal(keyed!.deduplicated, true);
      assert.equal((await provider.enqueue([{ queue, name: 'c', payload: null, id: 'chosen-1' }]))[0]!.deduplicated, true);
      assert.deepEqual(keys(), ["id:chosen-1", "key:key-1"]);
      assert.ok(keys().includes('id:chosen-1') && keys().includes('key:key-1'));

      const leases = await fetchUntil(provider, queue, 3);
      const byName = new Map(leases.map((l) => [l.job.name, l]));
      assert.equal(byName.get('g')!.job.id, generated!.id);
      assert.equal('idClaimed' in byName.get('g')!.job, false, 'the body marker stays out of the job');
      await provider.retry(byName.get('c')!, { runAtMs: Date.now(), error: 'again' });
      assert.equal((await provider.enqueue([{ queue, name: 'c', payload: null, id: 'chosen-1' }]))[0]!.deduplicated, true, 'a retry keeps the id claim');
      const [again] = await fetchUntil(provider, queue, 1);
      assert.equal(again!.job.id, 'chosen-1');
      for (const lease of [byName.get('g')!, byName.get('k')!, again!]) await provider.ack(lease);
      assert.deepEqual(keys(), [], 'acks release every claim');
    } finally {
      await provider.close();
    }
  });

  it('coalesced acks settle exactly the finished jobs: finished out of order, around a running one and a dead letter', async () => {
    const label = `acks_${randomUUID().slice(0, 6)}`;
    const prefix = `kt_${label}_${randomUUID().slice(0, 8)}`;
    created.add(prefix);
    const open = () => tracked(createRabbitmqProvider({ url: SERVICES.rabbitmq.url, prefix, store, prefetch: 10 }));
    const queue = freshQueueName('acks');
    const first = open();
    await first.connect();
    const ids = (await first.enqueue(Array.from({ length: 8 }, (_, i) => ({ queue, name: 'a', payload: i })))).map((r) => r.id);
    const leases = await fetchUntil(first, queue, 8);
    assert.deepEqual(leases.map((l) => l.job.id), ids);
    // Jobs 0 and 5 keep running; 3 is dead-lettered; the rest finish in reverse order, together.
    await Promise.all([7, 6, 4, 2, 1].map((i) => first.ack(leases[i]!)));
    await first.deadLetter(leases[3]!, 'bad');
    await first.close();
    const second = open();
    await second.connect();
    try {
      const back = await fetchUntil(second, queue, 2);
      assert.deepEqual(back.map((l) => l.job.id).sort(), [ids[0], ids[5]].sort(), 'only the running jobs come back');
      assert.deepEqual(await second.fetch(queue, { max: 10, leaseMs: 30_000, waitMs: 300 }), [], 'nothing else');
      for (const lease of back) await second.ack(lease);
      assert.deepEqual((await second.listDeadLetters(queue)).map((d) => d.job.id), [ids[3]]);
    } finally {
      await second.close();
    }
  });

  it('a message published before the idClaimed marker releases its id claim on ack', async () => {
    const provider = tracked(makeProvider('legacy'));
    await provider.connect();
    const queue = freshQueueName('legacy');
    await provider.ensureQueue(queue);
    const prefix = [...created].find((p) => p.startsWith('kt_legacy_'))!;
    try {
      // What an earlier version sent: the claim taken, the body without the marker.
      const job = toJob({ queue, name: 'old', payload: 1 }, Date.now());
      store.db.prepare("INSERT INTO broker_dedup_keys (provider, queue, dedup_key, job_id, created_at_ms) VALUES ('rabbitmq', ?, ?, ?, ?)").run(queue, `id:${job.id}`, job.id, Date.now());
      const conn = await amqp.connect(SERVICES.rabbitmq.url);
      try {
        const ch = await conn.createConfirmChannel();
        ch.sendToQueue(`${prefix}.${queue}`, Buffer.from(JSON.stringify(job)), { persistent: true, messageId: job.id });
        await ch.waitForConfirms();
      } finally {
        await conn.close();
      }
      const [lease] = await fetchUntil(provider, queue, 1);
      assert.equal(lease!.job.id, job.id);
      await provider.ack(lease!);
      assert.deepEqual(ledgerKeys(queue), []);
    } finally {
      await provider.close();
    }
  });

  it('a dead letter also reaches the <queue>.dead interop queue through the dead-letter exchange', async () => {
    const provider = tracked(makeProvider('dlx'));
    await provider.connect();
    const queue = freshQueueName('dlx');
    await provider.ensureQueue(queue);
    try {
      const [r] = await provider.enqueue([{ queue, name: 'd', payload: 'x' }]);
      const [lease] = await fetchUntil(provider, queue, 1);
      await provider.deadLetter(lease!, 'bad');
      const conn = await amqp.connect(SERVICES.rabbitmq.url);
      try {
        const ch = await conn.createChannel();
        const prefix = [...created].find((p) => lease!.job.queue === queue && p.startsWith('kt_dlx_'))!;
        let msg: amqp.GetMessage | false = false;
        for (let i = 0; i < 50 && msg === false; i += 1) {
          msg = await ch.get(`${prefix}.${queue}.dead`, { noAck: true });
          if (msg === false) await new Promise((res) => setTimeout(res, 50));
        }
        assert.ok(msg !== false, 'the dead queue holds the message');
        assert.equal(msg.properties.messageId, r!.id);
        await ch.close();
      } finally {
        await conn.close();
      }
    } finally {
      await provider.close();
    }
  });
});
