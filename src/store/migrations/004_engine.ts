import type { Migration } from './migration.js';

/**
 * The durable engine: runs (flow and workflow), their journal of steps, the run timeline (state
 * transitions and task logs), the per-run inbox of events and signals, event subscriptions and the
 * task result cache. JSON values are stored as text in both dialects so that both encode a step's
 * output byte for byte the same way (and the size limit means the same thing).
 */
const tables = (big: string, autoId: string): string => `
  CREATE TABLE engine_runs (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('flow', 'workflow')),
    name TEXT NOT NULL,
    params TEXT,
    state TEXT NOT NULL,
    queue TEXT NOT NULL DEFAULT 'default',
    parent_run_id TEXT,
    deployment_id TEXT,
    idempotency_key TEXT UNIQUE,
    tags TEXT NOT NULL DEFAULT '[]',
    attempt INTEGER NOT NULL DEFAULT 1,
    created_ms ${big} NOT NULL,
    scheduled_ms ${big} NOT NULL,
    started_ms ${big},
    ended_ms ${big},
    updated_ms ${big} NOT NULL,
    lease_owner TEXT,
    lease_until_ms ${big},
    wake_ms ${big},
    wakeups INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    result TEXT
  );
  CREATE INDEX engine_runs_claim ON engine_runs (state, scheduled_ms);
  CREATE INDEX engine_runs_parent ON engine_runs (parent_run_id);
  CREATE INDEX engine_runs_deployment ON engine_runs (deployment_id, state);
  CREATE INDEX engine_runs_name ON engine_runs (name, created_ms);

  CREATE TABLE engine_steps (
    run_id TEXT NOT NULL REFERENCES engine_runs (id) ON DELETE CASCADE,
    step_key TEXT NOT NULL,
    seq ${autoId},
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    attempt INTEGER NOT NULL DEFAULT 0,
    input_hash TEXT,
    input TEXT,
    output TEXT,
    error TEXT,
    queue TEXT,
    cached INTEGER NOT NULL DEFAULT 0,
    wake_ms ${big},
    started_ms ${big},
    ended_ms ${big},
    PRIMARY KEY (run_id, step_key)
  );

  CREATE TABLE engine_events (
    id ${autoId} PRIMARY KEY,
    run_id TEXT NOT NULL,
    step_key TEXT,
    type TEXT NOT NULL,
    state TEXT,
    level TEXT,
    message TEXT,
    data TEXT,
    at_ms ${big} NOT NULL
  );
  CREATE INDEX engine_events_run ON engine_events (run_id, id);

  CREATE TABLE engine_inbox (
    id ${autoId} PRIMARY KEY,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('event', 'signal')),
    name TEXT NOT NULL,
    payload TEXT,
    delivered_ms ${big} NOT NULL,
    consumed_by TEXT
  );
  CREATE INDEX engine_inbox_run ON engine_inbox (run_id, kind, name, id);

  CREATE TABLE engine_subscriptions (
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    match TEXT,
    created_ms ${big} NOT NULL,
    PRIMARY KEY (run_id, name)
  );
  CREATE INDEX engine_subscriptions_name ON engine_subscriptions (name);

  CREATE TABLE engine_cache (
    cache_key TEXT PRIMARY KEY,
    output TEXT,
    created_ms ${big} NOT NULL,
    expires_ms ${big}
  );
`;

export const migration: Migration = {
  version: 4,
  name: 'engine runs and journal',
  // SQLite has no serial column outside the key: steps are ordered by rowid there, by seq in PostgreSQL.
  sqlite: tables('INTEGER', 'INTEGER').replaceAll('id INTEGER PRIMARY KEY,', 'id INTEGER PRIMARY KEY AUTOINCREMENT,'),
  postgres: tables('BIGINT', 'BIGSERIAL'),
};
