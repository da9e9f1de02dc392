/**
 * A Redis server killed with SIGKILL and restarted under a running worker and producer: every job
 * whose enqueue returned still completes. The test runs its OWN redis-server (port 6390, a temp
 * dir, `appendonly yes` + `appendfsync always`, so an acknowledged write is on disk) rather than
 * touch the shared one. Runs only when KAIROS_CHAOS=1 — skipped, with the reason, otherwise.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createRedisProvider } from '../../src/queue/providers/redis.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../src/store/store.js';
import { OwnedServer, assertNoAcknowledgedJobLost } from '../queue/providers/broker-restart-driver.js';
import { recordSkip } from '../support/services.js';

const PORT = 6390;
function skipReason(): string | false {
  if (process.env.KAIROS_CHAOS !== '1') return 'set KAIROS_CHAOS=1 to kill and restart a Redis server mid-run';
  if (spawnSync('redis-server', ['--version']).status !== 0) return 'redis-server is not installed';
  return false;
}
const skip = skipReason();
if (skip !== false) recordSkip(`queue chaos: redis restart: ${skip}`);

const dir = mkdtempSync(join(tmpdir(), 'kairos-redis-restart-'));
const server = new OwnedServer(
  'redis-server',
  ['--port', String(PORT), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--daemonize', 'no'],
  PORT,
);
let store: SqliteStore | undefined;

after(async () => {
  await server.kill();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('queue chaos: redis killed and restarted under a running worker', { skip }, () => {
  it('loses no acknowledged job (appendfsync always)', async () => {
    await server.start();
    store = openSqliteStore({ path: join(dir, 'kairos.db') });
    const provider = createRedisProvider({ url: `redis://127.0.0.1:${PORT}`, prefix: 'krestart' });
    await provider.connect();
    await assertNoAcknowledgedJobLost('redis', { provider, store, restart: () => server.restart() });
  });
});
