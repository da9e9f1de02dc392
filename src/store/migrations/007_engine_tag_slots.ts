import type { Migration } from './migration.js';

/**
 * Global tag concurrency for flow tasks (`tagConcurrency: { gpu: 2 }`): one row per occupied slot of
 * a tag, held by one task of one run on one worker, with a lease renewed by that worker's run
 * heartbeat. A task takes a free slot below its flow's limit (or one whose lease expired: its worker
 * died), so the limit holds across runs and workers sharing the store.
 */
const table = (bigint: string): string => `
  CREATE TABLE engine_tag_slots (
    tag TEXT NOT NULL,
    slot INTEGER NOT NULL,
    run_id TEXT NOT NULL,
    step_key TEXT NOT NULL,
    owner TEXT NOT NULL,
    lease_until_ms ${bigint} NOT NULL,
    PRIMARY KEY (tag, slot)
  );
  CREATE INDEX engine_tag_slots_run ON engine_tag_slots (run_id);
`;

export const migration: Migration = {
  version: 7,
  name: 'engine tag slots',
  sqlite: table('INTEGER'),
  postgres: table('BIGINT'),
};
