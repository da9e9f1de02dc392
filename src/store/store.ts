import type Database from 'better-sqlite3';
import type { Pool } from 'pg';

/**
 * The Kairos store: schedules, runs, journals, events, dead letters, audit. Two dialects behind one
 * handle. Each lane keeps its SQL in its own repository module and branches on `dialect` there; the
 * store itself only owns the connection and the migrations.
 */
export type Store = SqliteStore | PostgresStore;

export interface SqliteStore {
  readonly dialect: 'sqlite';
  /** The file path, or ':memory:'. */
  readonly path: string;
  readonly db: Database.Database;
  close(): Promise<void>;
}

export interface PostgresStore {
  readonly dialect: 'postgres';
  /** The schema every table lives in; one schema per Kairos installation (or per test file). */
  readonly schema: string;
  readonly pool: Pool;
  /** The connection string without its password, for logs. */
  readonly displayUrl: string;
  close(): Promise<void>;
}
