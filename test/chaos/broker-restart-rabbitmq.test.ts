/**
 * The machine's RabbitMQ application stopped and started (`rabbitmqctl stop_app` / `start_app`)
 * under a running worker and producer: every job whose enqueue was confirmed (publisher confirms on a
 * quorum queue, persistent messages) still completes. This disturbs every client of the server, so it
 * runs only when KAIROS_CHAOS=1 (the lead's .ci/run serialises it) — skipped, with the reason, otherwise.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createRabbitmqProvider } from '../../src/queue/providers/rabbitmq.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../src/store/store.js';
import { deleteRabbitmqQueues } from '../queue/providers/broker-cleanup.js';
import { assertNoAcknowledgedJobLost, waitForPort } from '../queue/providers/broker-restart-driver.js';
import { SERVICES, recordSkip, serviceSkip } from '../support/services.js';

function skipReason(): string | false {
  if (process.env.KAIROS_CHAOS !== '1') return 'set KAIROS_CHAOS=1 to stop and start the RabbitMQ application mid-run (it disturbs other tests on the server)';
  if (spawnSync('rabbitmqctl', ['--help']).error !== undefined) return 'rabbitmqctl is not installed';
  return false;
}
let skip = skipReason();
if (skip !== false) recordSkip(`queue chaos: rabbitmq restart: ${skip}`);
else skip = await serviceSkip('rabbitmq', 'queue chaos: rabbitmq restart');

const dir = mkdtempSync(join(tmpdir(), 'kairos-rabbitmq-restart-'));
const prefix = `krestart_${randomUUID().slice(0, 8)}`;
let store: SqliteStore | undefined;
let stopped = false;

function rabbitmqctl(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('rabbitmqctl', [command], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`rabbitmqctl ${command} exited ${code}: ${stderr}`))));
  });
}

after(async () => {
  // Never leave the shared server stopped, whatever failed.
  if (stopped) await rabbitmqctl('start_app').catch(() => undefined);
  if (skip === false) await deleteRabbitmqQueues(SERVICES.rabbitmq.url, ['restart'], prefix).catch(() => undefined);
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('queue chaos: rabbitmq application stopped and started under a running worker', { skip }, () => {
  it('loses no confirmed job (quorum queue, persistent messages)', async () => {
    store = openSqliteStore({ path: join(dir, 'kairos.db') });
    const provider = createRabbitmqProvider({ url: SERVICES.rabbitmq.url, prefix, store, queueType: 'quorum' });
    await provider.connect();
    /** Restarts during which the AMQP port refused connections: the broker was really away. */
    let outages = 0;
    await assertNoAcknowledgedJobLost('rabbitmq', {
      provider,
      store,
      restart: async () => {
        stopped = true;
        await rabbitmqctl('stop_app');
        const listening = await waitForPort(SERVICES.rabbitmq.port, 0).then(
          () => true,
          () => false,
        );
        if (!listening) outages += 1;
        await rabbitmqctl('start_app');
        stopped = false;
        await waitForPort(SERVICES.rabbitmq.port);
      },
      drainTimeoutMs: 120_000,
    });
    // The test must not pass vacuously: the broker was down at each restart. (Whether a client sees an
    // error depends on timing — an operation that starts during the outage waits for the reconnect.)
    assert.equal(outages, 2, 'the AMQP port refused connections after each stop_app');
  });
});
