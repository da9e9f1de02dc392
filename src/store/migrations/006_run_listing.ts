import type { Migration } from './migration.js';

/**
 * Indexes for the run list of the API and UI (`GET /api/runs`): newest first, optionally by kind or
 * state, paginated by keyset `(created_ms, id)`. Each index ends with the keyset columns, so a page
 * is an index range scan of `limit` rows however many runs the store holds.
 */
const indexes = `
  CREATE INDEX engine_runs_created ON engine_runs (created_ms, id);
  CREATE INDEX engine_runs_kind_created ON engine_runs (kind, created_ms, id);
  CREATE INDEX engine_runs_state_created ON engine_runs (state, created_ms, id);
  CREATE INDEX engine_runs_name_created_id ON engine_runs (name, created_ms, id);
`;

export const migration: Migration = {
  version: 6,
  name: 'run listing indexes',
  sqlite: indexes,
  postgres: indexes,
};
