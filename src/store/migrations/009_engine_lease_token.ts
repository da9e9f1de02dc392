import type { Migration } from './migration.js';

/**
 * A token per claim of an engine run (fencing): every write an executor makes names the token of
 * the claim it runs under and applies only while that claim is current, so an executor that stalled
 * past its lease — even on the same worker, which may have claimed the run again — cannot write.
 */
export const migration: Migration = {
  version: 9,
  name: 'engine lease token',
  sqlite: 'ALTER TABLE engine_runs ADD COLUMN lease_token TEXT;',
  postgres: 'ALTER TABLE engine_runs ADD COLUMN lease_token TEXT;',
};
