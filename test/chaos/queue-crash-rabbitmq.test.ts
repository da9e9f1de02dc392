import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { chaosQueuesOn, crashQueuesIn, deleteRabbitmqQueues } from '../queue/providers/broker-cleanup.js';
import { SERVICES, serviceSkip } from '../support/services.js';
import { runCrashTest } from './queue-crash.js';

const skip = await serviceSkip('rabbitmq', 'queue chaos: kill -9 on rabbitmq');
// The Kairos store beside the broker (held jobs, dead-letter ledger) is a SQLite file in this folder.
const dir = mkdtempSync(join(tmpdir(), 'kairos-chaos-rabbitmq-'));
// Queues that existed before: anything new after the run is this test's, even if it failed early.
const before = skip === false ? await chaosQueuesOn('rabbitmq', SERVICES.rabbitmq.url) : new Set<string>();
after(async () => {
  if (skip === false) {
    const mine = new Set(crashQueuesIn(dir));
    for (const queue of await chaosQueuesOn('rabbitmq', SERVICES.rabbitmq.url)) if (!before.has(queue)) mine.add(queue);
    await deleteRabbitmqQueues(SERVICES.rabbitmq.url, [...mine]);
  }
  rmSync(dir, { recursive: true, force: true });
});

describe('queue chaos: kill -9 workers on the rabbitmq provider', { skip }, () => {
  it('completes all 10,000 jobs at least once across 5 kills, duplicates bounded by in-flight jobs', async () => {
    const report = await runCrashTest({
      // The harness runs any provider openQueueConnection knows; its option type names only the store providers.
      provider: 'rabbitmq',
      providerOptions: { url: SERVICES.rabbitmq.url, dbPath: join(dir, 'kairos.db') },
      workDir: dir,
      jobs: 10_000,
      kills: 5,
    });
    console.log(`rabbitmq crash test: ${JSON.stringify(report)}`);
    assert.equal(report.completedUnique, 10_000);
    assert.equal(report.children, 6);
  });
});
