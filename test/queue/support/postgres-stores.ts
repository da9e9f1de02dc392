import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import { openPostgresStore } from '../../../src/store/postgres/open.js';
import type { PostgresStore } from '../../../src/store/store.js';
import { SERVICES } from '../../support/services.js';

/**
 * Opens PostgreSQL stores for one test file, each in a fresh schema `<prefix>_<random>`, and registers
 * an `after()` hook that closes them all and drops their schemas. Call at the top level of the file.
 */
export function postgresStoresForThisFile(prefix: string): () => Promise<PostgresStore> {
  const stores: PostgresStore[] = [];
  after(async () => {
    for (const store of stores) await store.close();
    if (stores.length === 0) return;
    const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    for (const store of stores) await admin.query(`DROP SCHEMA IF EXISTS ${store.schema} CASCADE`);
    await admin.end();
  });
  return async () => {
    const store = await openPostgresStore({ connectionString: SERVICES.postgres.url, schema: `${prefix}_${randomUUID().slice(0, 8)}` });
    stores.push(store);
    return store;
  };
}
