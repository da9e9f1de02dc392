import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { createSqliteProvider } from '../../../src/queue/providers/sqlite.js';
import { openSqliteStore } from '../../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../../src/store/store.js';
import { runQueueProviderContract } from '../../contract/queue-provider.js';

const dir = mkdtempSync(join(tmpdir(), 'kairos-sqlite-provider-'));
const stores: SqliteStore[] = [];
let n = 0;

after(async () => {
  for (const store of stores) await store.close();
  rmSync(dir, { recursive: true, force: true });
});

// A fresh database file per provider: isolation without relying on queue names.
runQueueProviderContract('sqlite', () => {
  n += 1;
  const store = openSqliteStore({ path: join(dir, `q${n}.db`) });
  stores.push(store);
  return Promise.resolve(createSqliteProvider({ store }));
});
