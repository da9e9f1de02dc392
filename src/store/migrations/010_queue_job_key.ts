import type { Migration } from './migration.js';

/**
 * PostgreSQL's `queue_jobs` gets a narrower key, for a cheaper insert (about a fifth of the enqueue
 * statement, measured on 1,000-row batches):
 * - `queue`, `id` and `dedup_key` compare bytewise (COLLATE "C"): they are names and identifiers,
 *   never sorted for people, and a locale collation costs a strcoll per index comparison.
 * - `(queue, id)` becomes the primary key, replacing both the `seq` primary key and the separate
 *   unique index on `(queue, id)`: one index fewer to update per row. `seq` keeps numbering rows
 *   for FIFO order inside the ready index; nothing looks a row up by it.
 *
 * SQLite already compares text bytewise, and its `seq` is the rowid, which costs no index of its own.
 */
export const migration: Migration = {
  version: 10,
  name: 'queue job key',
  sqlite: `-- nothing to change on SQLite`,
  postgres: `
    ALTER TABLE queue_jobs DROP CONSTRAINT queue_jobs_pkey;
    DROP INDEX queue_jobs_id;
    ALTER TABLE queue_jobs
      ALTER COLUMN queue TYPE TEXT COLLATE "C",
      ALTER COLUMN id TYPE TEXT COLLATE "C",
      ALTER COLUMN dedup_key TYPE TEXT COLLATE "C";
    ALTER TABLE queue_jobs ADD CONSTRAINT queue_jobs_pkey PRIMARY KEY (queue, id);
  `,
};
