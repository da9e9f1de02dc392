import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { ProviderUnavailableError } from '../../../src/errors.js';
import { createRedisProvider } from '../../../src/queue/providers/redis.js';
import { fetchUntil, freshQueueName, runQueueProviderContract } from '../../contract/queue-provider.js';
import { runQueueRuntimeContract } from '../../contract/queue-runtime.js';
import { SERVICES, serviceSkip } from '../../support/services.js';
import { deleteRedisPrefixes, freshRedisPrefix } from './redis-support.js';

const skip = await serviceSkip('redis', 'redis provider');
const prefixes: string[] = [];

function makeProvider(label = 'contract') {
  const prefix = freshRedisPrefix(label);
  prefixes.push(prefix);
  return createRedisProvider({ url: SERVICES.redis.url, prefix });
}

after(async () => {
  if (skip === false) await deleteRedisPrefixes(prefixes);
});

runQueueProviderContract('redis', () => Promise.resolve(makeProvider()), { skip });
runQueueRuntimeContract('redis', () => Promise.resolve(makeProvider('runtime')), { skip });

describe('redis provider specifics', { skip }, () => {
  it('names the redacted address when the server is down at start', async () => {
    const provider = createRedisProvider({ url: 'redis://:secret@127.0.0.1:1', connectAttempts: 2, connectBackoffMs: 10 });
    await assert.rejects(provider.connect(), (error: unknown) => {
      assert.ok(error instanceof ProviderUnavailableError);
      assert.match(error.message, /127\.0\.0\.1:1/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    });
    await provider.close();
  });

  it('keeps working after its connection is killed mid-run (CLIENT KILL), losing nothing', async () => {
    const prefix = freshRedisPrefix('kill');
    prefixes.push(prefix);
    const provider = createRedisProvider({ url: SERVICES.redis.url, prefix, redis: { connectionName: prefix } });
    await provider.connect();
    const queue = freshQueueName('kill');
    await provider.ensureQueue(queue);
    const admin = new Redis(SERVICES.redis.url);
    try {
      const ids = (await provider.enqueue(Array.from({ length: 20 }, (_, i) => ({ queue, name: 'k', payload: i })))).map((r) => r.id);
      const first = await fetchUntil(provider, queue, 10);
      // Kill the provider's connections (found by their client name) as a network drop would.
      const list = String(await admin.client('LIST'));
      const ours = list.split('\n').filter((line) => line.includes(` name=${prefix} `));
      assert.ok(ours.length > 0, 'the provider has a named connection');
      for (const line of ours) await admin.call('CLIENT', 'KILL', 'ID', /id=(\d+)/.exec(line)![1]!);
      for (const lease of first) await provider.ack(lease);
      const rest = await fetchUntil(provider, queue, 10);
      for (const lease of rest) await provider.ack(lease);
      assert.deepEqual(new Set([...first, ...rest].map((l) => l.job.id)), new Set(ids));
      const stats = await provider.stats(queue);
      assert.equal(stats.waiting + stats.active, 0);
      assert.equal((await provider.health()).ok, true);
    } finally {
      admin.disconnect();
      await provider.close();
    }
  });

  it('a late retry from a worker whose lease was reclaimed changes nothing', async () => {
    const provider = makeProvider('stale');
    await provider.connect();
    const queue = freshQueueName('stale');
    try {
      await provider.enqueue([{ queue, name: 's', payload: null }]);
      const [stale] = await provider.fetch(queue, { max: 1, leaseMs: 200, waitMs: 1_000 });
      const [current] = await fetchUntil(provider, queue, 1, { leaseMs: 30_000 });
      assert.ok(stale && current);
      await provider.retry(stale, { runAtMs: Date.now(), error: 'late' });
      await provider.deadLetter(stale, 'late');
      const job = await provider.getJob!(queue, current.job.id);
      assert.equal(job?.state, 'active');
      assert.equal(job?.attempt, 2);
      await provider.ack(current);
    } finally {
      await provider.close();
    }
  });
});
