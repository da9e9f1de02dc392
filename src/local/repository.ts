import type { TriggerSpec } from '../core/triggers/trigger.js';
import { StoreError } from '../errors.js';
import type { PostgresStore, SqliteStore, Store } from '../store/store.js';
import type { ErrorSummary } from './types.js';

/**
 * Where persistent local jobs keep their schedule and counters (table `local_jobs`, migration 001).
 * One module, branching on the store's dialect; the SQL for both is side by side so it cannot drift.
 */
export interface StoredLocalJob {
  id: string;
  name: string;
  triggerSpec: TriggerSpec;
  /** The job's settings at the last write, for inspection (the code's settings win on restart). */
  options: Record<string, unknown>;
  /** The trigger's next fire time, before jitter; null when the trigger has no more fires. */
  nextRunMs: number | null;
  paused: boolean;
  runCount: number;
  missedCount: number;
  lastRunMs: number | null;
  lastResult: unknown;
  lastError: ErrorSummary | null;
  lastState: string | null;
  updatedAtMs: number;
}

export interface LocalJobRepository {
  loadAll(): Promise<StoredLocalJob[]>;
  save(job: StoredLocalJob): Promise<void>;
  remove(id: string): Promise<void>;
}

export function createLocalJobRepository(store: Store): LocalJobRepository {
  return store.dialect === 'sqlite' ? sqliteRepository(store) : postgresRepository(store);
}

interface SqliteRow {
  id: string;
  name: string;
  trigger_spec: string;
  options: string;
  next_run_ms: number | null;
  paused: number;
  run_count: number;
  missed_count: number;
  last_run_ms: number | null;
  last_result: string | null;
  last_error: string | null;
  last_state: string | null;
  updated_at_ms: number;
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  return JSON.parse(text) as T;
}

function storeError(operation: string, id: string | null, cause: unknown): StoreError {
  return new StoreError(`Local job store: ${operation}${id === null ? '' : ` of job '${id}'`} failed; check the store is reachable and migrated.`, {
    cause,
    details: { operation, jobId: id },
  });
}

const UPSERT_COLUMNS =
  'id, name, trigger_spec, options, next_run_ms, paused, run_count, missed_count, last_run_ms, last_result, last_error, last_state, updated_at_ms';
const UPSERT_UPDATE = `name = excluded.name, trigger_spec = excluded.trigger_spec, options = excluded.options,
  next_run_ms = excluded.next_run_ms, paused = excluded.paused, run_count = excluded.run_count,
  missed_count = excluded.missed_count, last_run_ms = excluded.last_run_ms, last_result = excluded.last_result,
  last_error = excluded.last_error, last_state = excluded.last_state, updated_at_ms = excluded.updated_at_ms`;

function sqliteRepository(store: SqliteStore): LocalJobRepository {
  const db = store.db;
  const select = db.prepare(`SELECT ${UPSERT_COLUMNS} FROM local_jobs ORDER BY id`);
  const upsert = db.prepare(
    `INSERT INTO local_jobs (${UPSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET ${UPSERT_UPDATE}`,
  );
  const del = db.prepare('DELETE FROM local_jobs WHERE id = ?');
  return {
    loadAll: () => {
      try {
        const rows = select.all() as SqliteRow[];
        return Promise.resolve(
          rows.map((row) => ({
            id: row.id,
            name: row.name,
            triggerSpec: JSON.parse(row.trigger_spec) as TriggerSpec,
            options: parseJson<Record<string, unknown>>(row.options, {}),
            nextRunMs: row.next_run_ms,
            paused: row.paused !== 0,
            runCount: row.run_count,
            missedCount: row.missed_count,
            lastRunMs: row.last_run_ms,
            lastResult: parseJson<unknown>(row.last_result, null),
            lastError: parseJson<ErrorSummary | null>(row.last_error, null),
            lastState: row.last_state,
            updatedAtMs: row.updated_at_ms,
          })),
        );
      } catch (cause) {
        return Promise.reject(storeError('load', null, cause));
      }
    },
    save: (job) => {
      try {
        upsert.run(
          job.id,
          job.name,
          JSON.stringify(job.triggerSpec),
          JSON.stringify(job.options),
          job.nextRunMs,
          job.paused ? 1 : 0,
          job.runCount,
          job.missedCount,
          job.lastRunMs,
          JSON.stringify(job.lastResult),
          job.lastError === null ? null : JSON.stringify(job.lastError),
          job.lastState,
          job.updatedAtMs,
        );
        return Promise.resolve();
      } catch (cause) {
        return Promise.reject(storeError('save', job.id, cause));
      }
    },
    remove: (id) => {
      try {
        del.run(id);
        return Promise.resolve();
      } catch (cause) {
        return Promise.reject(storeError('remove', id, cause));
      }
    },
  };
}

interface PostgresRow {
  id: string;
  name: string;
  trigger_spec: TriggerSpec;
  options: Record<string, unknown>;
  next_run_ms: string | null;
  paused: boolean;
  run_count: string;
  missed_count: string;
  last_run_ms: string | null;
  last_result: unknown;
  last_error: string | null;
  last_state: string | null;
  updated_at_ms: string;
}

function toNumber(value: string | null): number | null {
  return value === null ? null : Number(value);
}

function postgresRepository(store: PostgresStore): LocalJobRepository {
  const pool = store.pool;
  return {
    loadAll: async () => {
      try {
        const { rows } = await pool.query<PostgresRow>(`SELECT ${UPSERT_COLUMNS} FROM local_jobs ORDER BY id`);
        return rows.map((row) => ({
          id: row.id,
          name: row.name,
          triggerSpec: row.trigger_spec,
          options: row.options,
          nextRunMs: toNumber(row.next_run_ms),
          paused: row.paused,
          runCount: Number(row.run_count),
          missedCount: Number(row.missed_count),
          lastRunMs: toNumber(row.last_run_ms),
          lastResult: row.last_result,
          lastError: parseJson<ErrorSummary | null>(row.last_error, null),
          lastState: row.last_state,
          updatedAtMs: Number(row.updated_at_ms),
        }));
      } catch (cause) {
        throw storeError('load', null, cause);
      }
    },
    save: async (job) => {
      try {
        await pool.query(
          `INSERT INTO local_jobs (${UPSERT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
           ON CONFLICT (id) DO UPDATE SET ${UPSERT_UPDATE}`,
          [
            job.id,
            job.name,
            JSON.stringify(job.triggerSpec),
            JSON.stringify(job.options),
            job.nextRunMs,
            job.paused,
            job.runCount,
            job.missedCount,
            job.lastRunMs,
            JSON.stringify(job.lastResult),
            job.lastError === null ? null : JSON.stringify(job.lastError),
            job.lastState,
            job.updatedAtMs,
          ],
        );
      } catch (cause) {
        throw storeError('save', job.id, cause);
      }
    },
    remove: async (id) => {
      try {
        await pool.query('DELETE FROM local_jobs WHERE id = $1', [id]);
      } catch (cause) {
        throw storeError('remove', id, cause);
      }
    },
  };
}
