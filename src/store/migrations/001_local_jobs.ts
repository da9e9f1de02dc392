import type { Migration } from './migration.js';

/**
 * Persistent local-lane jobs: a restart resumes them, applying the misfire policy to what was missed.
 * `next_run_ms` is the trigger's next fire time (before jitter); `last_error` is a JSON ErrorSummary.
 */
export const migration: Migration = {
  version: 1,
  name: 'local jobs',
  sqlite: `
    CREATE TABLE local_jobs (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      trigger_spec TEXT NOT NULL,
      options TEXT NOT NULL,
      next_run_ms INTEGER,
      paused INTEGER NOT NULL DEFAULT 0,
      run_count INTEGER NOT NULL DEFAULT 0,
      missed_count INTEGER NOT NULL DEFAULT 0,
      last_run_ms INTEGER,
      last_result TEXT,
      last_error TEXT,
      last_state TEXT,
      updated_at_ms INTEGER NOT NULL
    );
    CREATE INDEX local_jobs_next_run ON local_jobs (next_run_ms);
  `,
  postgres: `
    CREATE TABLE local_jobs (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL,
      trigger_spec JSONB NOT NULL,
      options JSONB NOT NULL,
      next_run_ms BIGINT,
      paused BOOLEAN NOT NULL DEFAULT FALSE,
      run_count BIGINT NOT NULL DEFAULT 0,
      missed_count BIGINT NOT NULL DEFAULT 0,
      last_run_ms BIGINT,
      last_result JSONB,
      last_error TEXT,
      last_state TEXT,
      updated_at_ms BIGINT NOT NULL
    );
    CREATE INDEX local_jobs_next_run ON local_jobs (next_run_ms);
  `,
};
