import type Database from 'better-sqlite3';
import type { Store } from '../../store/store.js';
import { StoreError } from '../../errors.js';

/**
 * The few SQL calls deployments need, over either dialect. Statements are written once with `?`
 * placeholders (rewritten to `$n` for PostgreSQL); values are normalised on the way in (booleans →
 * 0/1 and objects → JSON for SQLite) and on the way out (`toNumber`, `fromJson`), because the two
 * drivers return BIGINT and JSON differently.
 */
export interface Sql {
  readonly dialect: Store['dialect'];
  all<Row>(text: string, params?: readonly unknown[]): Promise<Row[]>;
  get<Row>(text: string, params?: readonly unknown[]): Promise<Row | undefined>;
  /** Runs a statement and returns how many rows it changed. */
  run(text: string, params?: readonly unknown[]): Promise<number>;
}

export function createSql(store: Store): Sql {
  if (store.dialect === 'sqlite') {
    const db = store.db;
    const statements = new Map<string, Database.Statement<unknown[]>>();
    const prepare = (text: string) => {
      let statement = statements.get(text);
      if (statement === undefined) {
        statement = db.prepare<unknown[]>(text);
        statements.set(text, statement);
      }
      return statement;
    };
    const bind = (params: readonly unknown[]) => params.map(toSqliteValue);
    return {
      dialect: 'sqlite',
      all: <Row>(text: string, params: readonly unknown[] = []) =>
        wrap(text, () => Promise.resolve(prepare(text).all(...bind(params)) as Row[])),
      get: <Row>(text: string, params: readonly unknown[] = []) =>
        wrap(text, () => Promise.resolve(prepare(text).get(...bind(params)) as Row | undefined)),
      run: (text: string, params: readonly unknown[] = []) =>
        wrap(text, () => Promise.resolve(prepare(text).run(...bind(params)).changes)),
    };
  }
  const pool = store.pool;
  const texts = new Map<string, string>();
  const rewrite = (text: string) => {
    let rewritten = texts.get(text);
    if (rewritten === undefined) {
      let n = 0;
      rewritten = text.replace(/\?/g, () => `$${(n += 1)}`);
      texts.set(text, rewritten);
    }
    return rewritten;
  };
  const bind = (params: readonly unknown[]) => params.map(toPostgresValue);
  return {
    dialect: 'postgres',
    all: <Row>(text: string, params: readonly unknown[] = []) =>
      wrap(text, async () => (await pool.query(rewrite(text), bind(params))).rows as Row[]),
    get: <Row>(text: string, params: readonly unknown[] = []) =>
      wrap(text, async () => (await pool.query(rewrite(text), bind(params))).rows[0] as Row | undefined),
    run: (text: string, params: readonly unknown[] = []) =>
      wrap(text, async () => (await pool.query(rewrite(text), bind(params))).rowCount ?? 0),
  };
}

async function wrap<T>(text: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (cause) {
    throw new StoreError(`A deployments query failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
      details: { statement: text.trim().split('\n')[0] },
    });
  }
}

function toSqliteValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return value;
}

function toPostgresValue(value: unknown): unknown {
  if (value === undefined) return null;
  // JSONB columns take text; pg would otherwise send arrays as PostgreSQL arrays.
  if (value !== null && typeof value === 'object') return JSON.stringify(value);
  return value;
}

/** BIGINT comes back from pg as a string and from SQLite as a number. */
export function toNumber(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}

export function toNumberOrNull(value: unknown): number | null {
  return value === null || value === undefined ? null : toNumber(value);
}

/** JSONB comes back parsed from pg; TEXT comes back as a string from SQLite. */
export function fromJson<T>(value: unknown): T | null {
  if (value === null || value === undefined) return null;
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

export function toBoolean(value: unknown): boolean {
  return value === true || value === 1 || value === '1' || value === 't';
}
