import pg from 'pg';
import { MigrationError, StoreError } from '../../errors.js';
import { MIGRATIONS } from '../migrations/index.js';
import type { Migration } from '../migrations/migration.js';
import type { PostgresStore } from '../store.js';

export interface PostgresStoreOptions {
  /** e.g. `postgres://user:pass@127.0.0.1:5432/kairos`. */
  connectionString: string;
  /** Schema for every Kairos table. Default 'kairos'. */
  schema?: string;
  /** Pool size. Default 10. */
  maxConnections?: number;
  /** How long to keep trying to reach the server at start. Default 10000. */
  connectTimeoutMs?: number;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** Hides the password of a connection string so it can be logged. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable connection string>';
  }
}

/** Connects (with bounded retries), creates the schema and runs the migrations. */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const schema = options.schema ?? 'kairos';
  if (!SCHEMA_NAME.test(schema)) {
    throw new StoreError(`Schema name '${schema}' is not allowed: use lower-case letters, digits and underscores.`, {
      details: { field: 'schema', value: schema },
    });
  }
  const displayUrl = redactUrl(options.connectionString);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 5_000,
    options: `-c search_path=${schema}`,
  });
  // An idle client that loses its server must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  await waitForServer(pool, displayUrl, options.connectTimeoutMs ?? 10_000);
  try {
    await migratePostgres(pool, schema, MIGRATIONS);
  } catch (error) {
    await pool.end();
    throw error;
  }
  let closed = false;
  return {
    dialect: 'postgres',
    schema,
    pool,
    displayUrl,
    close: async () => {
      if (!closed) {
        closed = true;
        await pool.end();
      }
    },
  };
}

async function waitForServer(pool: pg.Pool, displayUrl: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (let attempt = 0; Date.now() < deadline; attempt += 1) {
    try {
      await pool.query('SELECT 1');
      return;
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, Math.min(200 * 2 ** attempt, 2_000)));
    }
  }
  await pool.end().catch(() => undefined);
  throw new StoreError(
    `Cannot reach PostgreSQL at ${displayUrl} after ${timeoutMs} ms: is the server running and the URL right?`,
    { cause: lastError, details: { url: displayUrl } },
  );
}

export async function migratePostgres(pool: pg.Pool, schema: string, migrations: readonly Migration[]): Promise<void> {
  const client = await pool.connect();
  try {
    // One migrator at a time across every process sharing the database.
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [`kairos-migrate:${schema}`]);
    try {
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await client.query(`SET search_path TO ${schema}`);
      await client.query(`CREATE TABLE IF NOT EXISTS kairos_migrations (
        version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at_ms BIGINT NOT NULL)`);
      const { rows } = await client.query<{ version: number }>('SELECT version FROM kairos_migrations');
      const applied = new Set(rows.map((r) => r.version));
      const current = Math.max(0, ...applied);
      const latest = Math.max(0, ...migrations.map((m) => m.version));
      if (current > latest) {
        throw new MigrationError(
          `The PostgreSQL store (schema ${schema}) is at version ${current}, newer than this Kairos (${latest}). Upgrade Kairos.`,
          { details: { current, latest, schema } },
        );
      }
      // Every migration not yet recorded, in order (a lower number may land after a higher one).
      for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
        if (applied.has(migration.version)) continue;
        try {
          await client.query('BEGIN');
          await client.query(migration.postgres);
          await client.query('INSERT INTO kairos_migrations (version, name, applied_at_ms) VALUES ($1, $2, $3)', [
            migration.version,
            migration.name,
            Date.now(),
          ]);
          await client.query('COMMIT');
        } catch (cause) {
          await client.query('ROLLBACK').catch(() => undefined);
          throw new MigrationError(`PostgreSQL migration ${migration.version} (${migration.name}) failed.`, {
            cause,
            details: { version: migration.version, schema },
          });
        }
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`kairos-migrate:${schema}`]);
    }
  } finally {
    client.release();
  }
}
