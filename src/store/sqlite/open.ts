import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MigrationError, StoreError } from '../../errors.js';
import { MIGRATIONS } from '../migrations/index.js';
import type { Migration } from '../migrations/migration.js';
import type { SqliteStore } from '../store.js';

export interface SqliteStoreOptions {
  /** Database file; created with its folder when missing. ':memory:' for a throwaway store. */
  path: string;
  /** How long a writer waits for another connection's lock before failing. Default 5000. */
  busyTimeoutMs?: number;
}

/** Opens (and migrates) the embedded SQLite store. WAL mode, so readers never block the writer. */
export function openSqliteStore(options: SqliteStoreOptions): SqliteStore {
  const path = options.path;
  let db: Database.Database;
  try {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    db = new Database(path, { timeout: options.busyTimeoutMs ?? 5_000 });
  } catch (cause) {
    throw new StoreError(`Cannot open the SQLite store at '${path}': check the path exists and is writable.`, {
      cause,
      details: { path },
    });
  }
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  migrateSqlite(db, MIGRATIONS);
  let closed = false;
  return {
    dialect: 'sqlite',
    path,
    db,
    close: () => {
      if (!closed) {
        closed = true;
        db.close();
      }
      return Promise.resolve();
    },
  };
}

export function migrateSqlite(db: Database.Database, migrations: readonly Migration[]): void {
  db.exec(`CREATE TABLE IF NOT EXISTS kairos_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at_ms INTEGER NOT NULL
  )`);
  // BEGIN IMMEDIATE takes the write lock first, so two processes opening one file migrate in turn.
  const run = db.transaction(() => {
    const applied = new Set(
      (db.prepare('SELECT version FROM kairos_migrations').all() as Array<{ version: number }>).map((r) => r.version),
    );
    const current = Math.max(0, ...applied);
    const latest = Math.max(0, ...migrations.map((m) => m.version));
    if (current > latest) {
      throw new MigrationError(
        `The SQLite store is at schema version ${current}, newer than this Kairos (${latest}). Upgrade Kairos or point it at another store.`,
        { details: { current, latest } },
      );
    }
    // Apply every migration not yet recorded, not only those above the highest: lanes are developed in
    // parallel, so a lower number can land after a higher one.
    for (const migration of [...migrations].sort((a, b) => a.version - b.version)) {
      if (applied.has(migration.version)) continue;
      try {
        db.exec(migration.sqlite);
      } catch (cause) {
        throw new MigrationError(`SQLite migration ${migration.version} (${migration.name}) failed.`, {
          cause,
          details: { version: migration.version },
        });
      }
      db.prepare('INSERT INTO kairos_migrations (version, name, applied_at_ms) VALUES (?, ?, ?)').run(
        migration.version,
        migration.name,
        Date.now(),
      );
    }
  });
  run.immediate();
}
