/**
 * A NATS JetStream server killed with SIGKILL and restarted under a running worker and producer: every
 * job whose enqueue returned (a JetStream publish ack: the message is stored) still completes. The
 * test runs its OWN nats-server (`-js -sd <temp dir> -p 4232`) rather than touch the shared one.
 * Runs only when KAIROS_CHAOS=1 — skipped, with the reason, otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createNatsProvider } from '../../src/queue/providers/nats.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../src/store/store.js';
import { OwnedServer, assertNoAcknowledgedJobLost } from '../queue/providers/broker-restart-driver.js';
import { recordSkip } from '../support/services.js';

const PORT = 4232;
function skipReason(): string | false {
  if (process.env.KAIROS_CHAOS !== '1') return 'set KAIROS_CHAOS=1 to kill and restart a NATS server mid-run';
  if (spawnSync('nats-server', ['--version']).status !== 0) return 'nats-server is not installed';
  return false;
}
const skip = skipReason();
if (skip !== false) recordSkip(`queue chaos: nats restart: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), 'kairos-nats-restart-'));
const server = new OwnedServer('nats-server', ['-a', '127.0.0.1', '-p', String(PORT), '-js', '-sd', join(dir, 'js')], PORT);
let store: SqliteStore | undefined;

after(async () => {
  await server.kill();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('queue chaos: nats killed and restarted under a running worker', { skip }, () => {
  it('loses no acknowledged job', async () => {
    await server.start();
    store = openSqliteStore({ path: join(dir, 'kairos.db') });
    const provider = createNatsProvider({ servers: `nats://127.0.0.1:${PORT}`, prefix: 'krestart', store });
    await provider.connect();
    await assertNoAcknowledgedJobLost('nats', { provider, store, restart: () => server.restart() });
  });
});
