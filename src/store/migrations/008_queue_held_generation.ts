import type { Migration } from './migration.js';

/**
 * `queue_held.generation`: a version number bumped by every change to a held row (a new hold of the
 * same job id, a take by a dispatcher, a release). A dispatcher confirms a hand-over, and a worker
 * releases its hold, only for the generation it saw — so a confirm that arrives after the job was
 * delivered, failed and held again cannot delete the newer hold (the job would be lost).
 */
export const migration: Migration = {
  version: 8,
  name: 'queue held generation',
  sqlite: `ALTER TABLE queue_held ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;`,
  postgres: `ALTER TABLE queue_held ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;`,
};
