import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/store.js';
import { SERVICES, serviceSkip } from '../support/services.js';

export type Dialect = 'sqlite' | 'postgres';

/** A fresh store per call: an in-memory SQLite database, or a new PostgreSQL schema dropped on close. */
export async function freshStore(dialect: Dialect): Promise<Store> {
  if (dialect === 'sqlite') return openSqliteStore({ path: ':memory:' });
  const schema = `kairos_engine_${randomBytes(5).toString('hex')}`;
  const store = await openPostgresStore({ connectionString: SERVICES.postgres.url, schema, maxConnections: 6 });
  const close = store.close.bind(store);
  return {
    ...store,
    close: async () => {
      await close();
      await dropSchema(schema);
    },
  };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: SERVICES.postgres.url });
  await client.connect();
  try {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  } finally {
    await client.end();
  }
}

/** The dialects to run a suite on, each with its skip reason (PostgreSQL skips when not reachable). */
export async function dialects(suite: string): Promise<Array<{ dialect: Dialect; skip: false | string }>> {
  return [
    { dialect: 'sqlite', skip: false },
    { dialect: 'postgres', skip: await serviceSkip('postgres', suite) },
  ];
}
