import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { Kafka, logLevel } from 'kafkajs';
import { ConfigError, ProviderUnavailableError } from '../../../src/errors.js';
import type { Job } from '../../../src/queue/contract.js';
import { createKafkaProvider } from '../../../src/queue/providers/kafka.js';
import { decodeJob, encodeJob } from '../../../src/queue/providers/kafka/messages.js';
import { OffsetTracker } from '../../../src/queue/providers/kafka/offsets.js';
import { runQueueProviderContract } from '../../contract/queue-provider.js';
import { runQueueRuntimeContract } from '../../contract/queue-runtime.js';
import { recordSkip } from '../../support/services.js';
import { tempLedgerStore } from './broker-support.js';

/**
 * The Kafka provider. The contract suites need a broker: set KAIROS_TEST_KAFKA_BROKERS (e.g.
 * `127.0.0.1:9092`); without it they are skipped by name. The offset tracker, the record encoding and
 * the option checks need no broker and always run.
 */
const brokers = (process.env.KAIROS_TEST_KAFKA_BROKERS ?? '').split(',').filter((b) => b !== '');
const skip: string | false = brokers.length > 0 ? false : 'KAIROS_TEST_KAFKA_BROKERS not set (no Kafka broker on this machine)';
if (skip !== false) recordSkip(`kafka provider: ${skip}`);

const { store, dispose } = tempLedgerStore('kafka');
const prefixes: string[] = [];

function makeProvider(label = 'c') {
  const prefix = `kt_${label}_${randomUUID().slice(0, 8)}`;
  prefixes.push(prefix);
  // One partition keeps FIFO within a queue, which some contract checks read for.
  return createKafkaProvider({ brokers, prefix, store, partitions: 1 });
}

after(async () => {
  if (skip === false && prefixes.length > 0) {
    const admin = new Kafka({ brokers, clientId: 'kairos-test-cleanup', logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const topics = (await admin.listTopics()).filter((t) => prefixes.some((p) => t.startsWith(`${p}.`)));
      if (topics.length > 0) await admin.deleteTopics({ topics });
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => prefixes.some((p) => g.startsWith(`${p}.`)));
      if (groups.length > 0) await admin.deleteGroups(groups);
    } finally {
      await admin.disconnect();
    }
  }
  await dispose();
});

runQueueProviderContract('kafka', () => Promise.resolve(makeProvider()), { skip });
runQueueRuntimeContract('kafka', () => Promise.resolve(makeProvider('rt')), { skip });

describe('kafka offset tracker (no broker)', () => {
  it('commits only the contiguous acked prefix', () => {
    const t = new OffsetTracker();
    for (const o of [10n, 11n, 12n, 13n]) assert.equal(t.track(0, o), true);
    assert.equal(t.ack(0, 12n), null, '12 is done but 10 and 11 are not: nothing to commit');
    assert.equal(t.ack(0, 11n), null);
    assert.equal(t.ack(0, 10n), 13n, '10..12 done: commit up to the first pending, 13');
    assert.equal(t.ack(0, 13n), 14n, 'all done: commit last + 1');
  });

  it('keeps partitions apart and ignores unknown or repeated acks', () => {
    const t = new OffsetTracker();
    t.track(0, 5n);
    t.track(1, 5n);
    assert.equal(t.ack(1, 5n), 6n);
    assert.equal(t.ack(1, 5n), null, 'a second ack of the same offset');
    assert.equal(t.ack(0, 99n), null, 'an offset never tracked');
    assert.equal(t.ack(7, 1n), null, 'a partition never seen');
    assert.equal(t.isPending(0, 5n), true);
    assert.equal(t.ack(0, 5n), 6n);
    assert.equal(t.isPending(0, 5n), false);
  });

  it('skips records seen already (a re-fetch from the commit after a rebalance) and tolerates gaps', () => {
    const t = new OffsetTracker();
    assert.equal(t.track(0, 100n), true);
    assert.equal(t.track(0, 103n), true, 'a gap (compacted or transaction marker)');
    assert.equal(t.track(0, 100n), false);
    assert.equal(t.track(0, 101n), false, 'below the highest seen');
    assert.equal(t.ack(0, 103n), null);
    assert.equal(t.ackedUncommitted(), 1);
    assert.equal(t.ack(0, 100n), 104n);
    assert.equal(t.ackedUncommitted(), 0);
  });

  it('forgets revoked partitions', () => {
    const t = new OffsetTracker();
    t.track(0, 1n);
    t.track(1, 1n);
    t.track(2, 1n);
    assert.deepEqual(t.retainOnly(new Set([1])).sort(), [0, 2]);
    assert.equal(t.ack(0, 1n), null);
    assert.equal(t.ack(1, 1n), 2n);
    assert.equal(t.track(0, 1n), true, 'a partition assigned again starts afresh');
  });

  it('never commits past an unacked offset, whatever the ack order (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 200 }).chain((n) => fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array(n).keys()], { minLength: 0, maxLength: n }))),
        ([n, ackOrder]) => {
          const t = new OffsetTracker();
          for (let i = 0; i < n; i += 1) t.track(0, BigInt(i));
          const acked = new Set<number>();
          let committed = 0n;
          for (const i of ackOrder) {
            acked.add(i);
            const next = t.ack(0, BigInt(i));
            if (next !== null) {
              assert.ok(next > committed, 'commits only move forward');
              committed = next;
            }
            // Every offset below the commit is acked; the commit is exactly the first unacked one.
            let firstUnacked = 0;
            while (acked.has(firstUnacked)) firstUnacked += 1;
            assert.equal(committed, BigInt(firstUnacked));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('compacts after many commits and still answers right', () => {
    const t = new OffsetTracker();
    for (let i = 0; i < 5_000; i += 1) t.track(3, BigInt(i));
    for (let i = 0; i < 4_999; i += 1) assert.equal(t.ack(3, BigInt(i)), BigInt(i + 1));
    assert.equal(t.isPending(3, 4_999n), true);
    assert.equal(t.ack(3, 4_999n), 5_000n);
  });
});

describe('kafka record encoding (no broker)', () => {
  const job: Job = {
    id: 'j-1',
    queue: 'q',
    name: 'email.send',
    payload: { to: 'ops@example.com', n: [1, 2] },
    dedupKey: null,
    priority: 0,
    runAtMs: 1,
    attempt: 2,
    maxAttempts: 5,
    backoff: null,
    timeoutMs: null,
    metadata: { owner: 'ops' },
    createdAtMs: 1,
    lastError: 'Error: boom — ünïcode',
  };

  it('round-trips a job, with its attempt and last error in headers and the id as key', () => {
    const message = encodeJob(job);
    assert.equal(message.key, 'j-1');
    // What kafkajs hands a consumer: Buffers for value and headers.
    const received = {
      key: Buffer.from('j-1'),
      value: Buffer.from(message.value as string),
      headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, Buffer.from(v as string)])),
      timestamp: '0',
      attributes: 0,
      offset: '7',
    };
    const decoded = decodeJob('q', received);
    assert.ok(decoded !== null);
    assert.equal(decoded.baseAttempt, 2);
    assert.equal(decoded.job.lastError, 'Error: boom — ünïcode');
    assert.deepEqual(decoded.job.payload, job.payload);
    assert.equal(decoded.job.queue, 'q');
  });

  it('returns null for records that are not Kairos jobs', () => {
    const base = { key: null, timestamp: '0', attributes: 0, offset: '0', headers: {} };
    assert.equal(decodeJob('q', { ...base, value: null }), null);
    assert.equal(decodeJob('q', { ...base, value: Buffer.from('not json') }), null);
    assert.equal(decodeJob('q', { ...base, value: Buffer.from('42') }), null);
  });
});

describe('kafka provider options (no broker)', () => {
  it('names the field when brokers, prefix, partitions or the ledger are wrong', () => {
    assert.throws(() => createKafkaProvider({ brokers: [], store }), (e: unknown) => e instanceof ConfigError && /brokers/.test(e.message));
    assert.throws(() => createKafkaProvider({ brokers: ['127.0.0.1:9092'], store, prefix: 'a b' }), ConfigError);
    assert.throws(() => createKafkaProvider({ brokers: ['127.0.0.1:9092'], store, partitions: 0 }), ConfigError);
    assert.throws(() => createKafkaProvider({ brokers: ['127.0.0.1:9092'] }), (e: unknown) => e instanceof ConfigError && /store/.test(e.message));
  });

  it('names the address when no broker answers at start', async () => {
    const provider = createKafkaProvider({
      brokers: ['127.0.0.1:1'],
      store,
      connectAttempts: 1,
      kafka: { retry: { retries: 0 }, connectionTimeout: 500 },
    });
    await assert.rejects(provider.connect(), (error: unknown) => error instanceof ProviderUnavailableError && /127\.0\.0\.1:1/.test(error.message));
    await provider.close();
  });
});
