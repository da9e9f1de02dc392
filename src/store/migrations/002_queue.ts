import type { Migration } from './migration.js';

/**
 * The queue lane's tables.
 *
 * `queue_jobs` holds every job of the `sqlite` and `postgres` providers from enqueue until it
 * completes (then the row is deleted) or is purged from the dead letters. `state` is one of
 * 'waiting' (delayed when `run_at_ms` is in the future), 'active' (leased until `lease_until_ms` by
 * the holder of `lease_token`) or 'dead'. `seq` gives FIFO order within a priority.
 *
 * `queue_held` holds jobs for providers whose broker cannot delay a message, until they are due; the
 * dispatcher claims rows with `claim_until_ms` so two dispatchers never both hand one over.
 */
/** The one column type that differs between the dialects: 64-bit integers (and the job sequence). */
const TYPES = {
  sqlite: { bigint: 'INTEGER', serial: 'INTEGER' },
  postgres: { bigint: 'BIGINT', serial: 'BIGSERIAL' },
} as const;

function queueTables(t: (typeof TYPES)[keyof typeof TYPES]): string {
  return `
    CREATE TABLE queue_jobs (
      seq ${t.serial} PRIMARY KEY,
      queue TEXT NOT NULL,
      id TEXT NOT NULL,
      name TEXT NOT NULL,
      payload TEXT NOT NULL,
      dedup_key TEXT,
      priority INTEGER NOT NULL DEFAULT 0,
      run_at_ms ${t.bigint} NOT NULL,
      attempt INTEGER NOT NULL DEFAULT 0,
      max_attempts INTEGER NOT NULL,
      backoff TEXT,
      timeout_ms ${t.bigint},
      metadata TEXT NOT NULL,
      created_at_ms ${t.bigint} NOT NULL,
      last_error TEXT,
      state TEXT NOT NULL DEFAULT 'waiting' CHECK (state IN ('waiting', 'active', 'dead')),
      lease_token TEXT,
      lease_until_ms ${t.bigint},
      dead_at_ms ${t.bigint}
    );
    CREATE UNIQUE INDEX queue_jobs_id ON queue_jobs (queue, id);
    CREATE UNIQUE INDEX queue_jobs_dedup ON queue_jobs (queue, dedup_key) WHERE dedup_key IS NOT NULL AND state <> 'dead';
    CREATE INDEX queue_jobs_ready ON queue_jobs (queue, priority DESC, run_at_ms, seq) WHERE state = 'waiting';
    CREATE INDEX queue_jobs_leases ON queue_jobs (queue, lease_until_ms) WHERE state = 'active';
    CREATE INDEX queue_jobs_dead ON queue_jobs (queue, dead_at_ms) WHERE state = 'dead';

    CREATE TABLE queue_held (
      id TEXT PRIMARY KEY,
      provider TEXT NOT NULL,
      queue TEXT NOT NULL,
      job TEXT NOT NULL,
      run_at_ms ${t.bigint} NOT NULL,
      claim_until_ms ${t.bigint} NOT NULL DEFAULT 0,
      held_at_ms ${t.bigint} NOT NULL
    );
    CREATE INDEX queue_held_due ON queue_held (provider, run_at_ms);
    CREATE INDEX queue_held_queue ON queue_held (provider, queue);
  `;
}

export const migration: Migration = {
  version: 2,
  name: 'queue jobs and held jobs',
  sqlite: queueTables(TYPES.sqlite),
  postgres: queueTables(TYPES.postgres),
};
