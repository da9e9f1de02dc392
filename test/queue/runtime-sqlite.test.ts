import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import type { QueueProvider } from '../../src/queue/contract.js';
import { createSqliteProvider } from '../../src/queue/providers/sqlite.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../src/store/store.js';
import { runQueueRuntimeContract } from '../contract/queue-runtime.js';

const dir = mkdtempSync(join(tmpdir(), 'kairos-sqlite-runtime-'));
const stores: SqliteStore[] = [];
after(async () => {
  for (const store of stores) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function sqliteProvider(): QueueProvider {
  const store = openSqliteStore({ path: join(dir, `q${stores.length}.db`) });
  stores.push(store);
  return createSqliteProvider({ store });
}

runQueueRuntimeContract('sqlite', () => Promise.resolve(sqliteProvider()));

// The same provider with its native delay hidden: the runtime must then hold delayed jobs and delayed
// retries in the Kairos store and hand them over through the DelayDispatcher, as it does for brokers.
runQueueRuntimeContract('sqlite without native delay (held by Kairos)', () => {
  const real = sqliteProvider();
  const withoutDelay: QueueProvider = Object.assign(Object.create(real) as QueueProvider, {
    capabilities: { ...real.capabilities, nativeDelay: false },
  });
  return Promise.resolve(withoutDelay);
});
