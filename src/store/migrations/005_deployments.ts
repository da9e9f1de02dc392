import type { Migration } from './migration.js';

/**
 * Deployments (a flow or workflow plus its schedule, parameters and policies), the fires the
 * scheduler recorded for them, emitted events, and metric-trigger state.
 *
 * `schedule_fires` is what makes a schedule fire exactly once per tick across several schedulers:
 * a fire is recorded (its key is unique) BEFORE the run is started, and only the scheduler whose
 * insert succeeded starts it. Manual, event and metric starts are recorded there too, with their own
 * key, so the UI shows one history per deployment.
 */
export const migration: Migration = {
  version: 5,
  name: 'deployments',
  sqlite: `
    CREATE TABLE deployments (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      target_kind TEXT NOT NULL,
      target_name TEXT NOT NULL,
      schedule TEXT,
      event_trigger TEXT,
      metric_trigger TEXT,
      parameters TEXT NOT NULL,
      overlap TEXT NOT NULL,
      catchup_window_ms INTEGER NOT NULL,
      max_active_runs INTEGER,
      paused INTEGER NOT NULL DEFAULT 0,
      jitter_ms INTEGER NOT NULL DEFAULT 0,
      start_ms INTEGER,
      end_ms INTEGER,
      last_fire_ms INTEGER NOT NULL,
      description TEXT,
      created_at_ms INTEGER NOT NULL,
      updated_at_ms INTEGER NOT NULL
    );
    CREATE TABLE schedule_fires (
      fire_key TEXT PRIMARY KEY,
      deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
      fire_ms INTEGER NOT NULL,
      origin TEXT NOT NULL,
      state TEXT NOT NULL,
      run_id TEXT,
      reason TEXT,
      parameters TEXT,
      recorded_at_ms INTEGER NOT NULL,
      started_at_ms INTEGER,
      scheduler_id TEXT
    );
    CREATE UNIQUE INDEX schedule_fires_tick ON schedule_fires (deployment_id, fire_ms)
      WHERE origin IN ('schedule', 'backfill');
    CREATE INDEX schedule_fires_state ON schedule_fires (deployment_id, state, fire_ms);
    CREATE TABLE kairos_events (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      name TEXT NOT NULL,
      payload TEXT,
      emitted_at_ms INTEGER NOT NULL,
      deployments_started INTEGER NOT NULL DEFAULT 0,
      runs_delivered INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX kairos_events_name ON kairos_events (name, emitted_at_ms);
    CREATE TABLE metric_trigger_state (
      deployment_id TEXT PRIMARY KEY REFERENCES deployments(id) ON DELETE CASCADE,
      version INTEGER NOT NULL,
      episode_since_ms INTEGER,
      last_true_ms INTEGER,
      last_value REAL,
      last_sample_ms INTEGER,
      fired_in_episode INTEGER NOT NULL DEFAULT 0,
      last_fired_ms INTEGER
    );
  `,
  postgres: `
    CREATE TABLE deployments (
      id TEXT PRIMARY KEY,
      name TEXT NOT NULL UNIQUE,
      target_kind TEXT NOT NULL,
      target_name TEXT NOT NULL,
      schedule JSONB,
      event_trigger JSONB,
      metric_trigger JSONB,
      parameters JSONB NOT NULL,
      overlap TEXT NOT NULL,
      catchup_window_ms BIGINT NOT NULL,
      max_active_runs INTEGER,
      paused BOOLEAN NOT NULL DEFAULT FALSE,
      jitter_ms BIGINT NOT NULL DEFAULT 0,
      start_ms BIGINT,
      end_ms BIGINT,
      last_fire_ms BIGINT NOT NULL,
      description TEXT,
      created_at_ms BIGINT NOT NULL,
      updated_at_ms BIGINT NOT NULL
    );
    CREATE TABLE schedule_fires (
      fire_key TEXT PRIMARY KEY,
      deployment_id TEXT NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
      fire_ms BIGINT NOT NULL,
      origin TEXT NOT NULL,
      state TEXT NOT NULL,
      run_id TEXT,
      reason TEXT,
      parameters JSONB,
      recorded_at_ms BIGINT NOT NULL,
      started_at_ms BIGINT,
      scheduler_id TEXT
    );
    CREATE UNIQUE INDEX schedule_fires_tick ON schedule_fires (deployment_id, fire_ms)
      WHERE origin IN ('schedule', 'backfill');
    CREATE INDEX schedule_fires_state ON schedule_fires (deployment_id, state, fire_ms);
    CREATE TABLE kairos_events (
      id BIGSERIAL PRIMARY KEY,
      name TEXT NOT NULL,
      payload JSONB,
      emitted_at_ms BIGINT NOT NULL,
      deployments_started INTEGER NOT NULL DEFAULT 0,
      runs_delivered INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX kairos_events_name ON kairos_events (name, emitted_at_ms);
    CREATE TABLE metric_trigger_state (
      deployment_id TEXT PRIMARY KEY REFERENCES deployments(id) ON DELETE CASCADE,
      version INTEGER NOT NULL,
      episode_since_ms BIGINT,
      last_true_ms BIGINT,
      last_value DOUBLE PRECISION,
      last_sample_ms BIGINT,
      fired_in_episode BOOLEAN NOT NULL DEFAULT FALSE,
      last_fired_ms BIGINT
    );
  `,
};
