import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { chaosQueuesOn, crashQueuesIn, deleteRedisQueues } from '../queue/providers/broker-cleanup.js';
import { SERVICES, serviceSkip } from '../support/services.js';
import { runCrashTest } from './queue-crash.js';

const skip = await serviceSkip('redis', 'queue chaos: kill -9 on redis');
// The Kairos store beside the broker (held jobs, dead-letter ledger) is a SQLite file in this folder.
const dir = mkdtempSync(join(tmpdir(), 'kairos-chaos-redis-'));
// Queues that existed before: anything new after the run is this test's, even if it failed early.
const before = skip === false ? await chaosQueuesOn('redis', SERVICES.redis.url) : new Set<string>();
after(async () => {
  if (skip === false) {
    const mine = new Set(crashQueuesIn(dir));
    for (const queue of await chaosQueuesOn('redis', SERVICES.redis.url)) if (!before.has(queue)) mine.add(queue);
    await deleteRedisQueues(SERVICES.redis.url, [...mine]);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('queue chaos: kill -9 workers on the redis provider', { skip }, () => {
  it('completes all 10,000 jobs at least once across 5 kills, duplicates bounded by in-flight jobs', async () => {
    const report = await runCrashTest({
      // The harness runs any provider openQueueConnection knows; its option type names only the store providers.
      provider: 'redis',
      providerOptions: { url: SERVICES.redis.url, dbPath: join(dir, 'kairos.db') },
      workDir: dir,
      jobs: 10_000,
      kills: 5,
    });
    console.log(`redis crash test: ${JSON.stringify(report)}`);
    assert.equal(report.completedUnique, 10_000);
    assert.equal(report.children, 6);
  });
});
