import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MigrationError } from '../../src/errors.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import type { Migration } from '../../src/store/migrations/migration.js';
import { migrateSqlite } from '../../src/store/sqlite/open.js';

const m = (version: number, table: string): Migration => ({
  version,
  name: table,
  sqlite: `CREATE TABLE ${table} (id INTEGER)`,
  postgres: `CREATE TABLE ${table} (id INTEGER)`,
});

const tables = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);

describe('store migrations', () => {
  it('has strictly increasing, unique versions', () => {
    const versions = MIGRATIONS.map((x) => x.version);
    assert.deepEqual(versions, [...new Set(versions)].sort((a, b) => a - b));
  });

  it('applies every migration once, and is idempotent', () => {
    const db = new Database(':memory:');
    migrateSqlite(db, MIGRATIONS);
    migrateSqlite(db, MIGRATIONS);
    const rows = db.prepare('SELECT version FROM kairos_migrations').all();
    assert.equal(rows.length, MIGRATIONS.length);
    db.close();
  });

  it('applies a lower-numbered migration that landed after a higher one', () => {
    const db = new Database(':memory:');
    migrateSqlite(db, [m(1, 'a'), m(3, 'c')]);
    migrateSqlite(db, [m(1, 'a'), m(2, 'b'), m(3, 'c')]);
    assert.deepEqual(tables(db).filter((t) => t.length === 1), ['a', 'b', 'c']);
    db.close();
  });

  it('refuses a database newer than the code, and rolls back a failing migration', () => {
    const db = new Database(':memory:');
    migrateSqlite(db, [m(1, 'a'), m(2, 'b')]);
    assert.throws(() => migrateSqlite(db, [m(1, 'a')]), MigrationError);
    assert.throws(() => migrateSqlite(db, [m(1, 'a'), m(2, 'b'), { ...m(3, 'c'), sqlite: 'CREATE TABLE c (id INTEGER); NOT SQL' }]), MigrationError);
    assert.ok(!tables(db).includes('c'));
    db.close();
  });
});
