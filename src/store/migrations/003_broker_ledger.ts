import type { Migration } from './migration.js';

/**
 * What Kairos records for pure brokers (NATS, RabbitMQ, Kafka, Cloud Tasks), which are transport
 * only and cannot be browsed: their dead letters (so the UI and CLI can list, replay and purge them)
 * and their live dedup keys (so a dedup key holds beyond the broker's own duplicate window).
 */
/** Column types that differ between the dialects. */
const TYPES = {
  sqlite: { bigint: 'INTEGER', json: 'TEXT' },
  postgres: { bigint: 'BIGINT', json: 'JSONB' },
} as const;

function ledgerTables(t: (typeof TYPES)[keyof typeof TYPES]): string {
  return `
    CREATE TABLE broker_dead_letters (
      provider TEXT NOT NULL,
      queue TEXT NOT NULL,
      job_id TEXT NOT NULL,
      job ${t.json} NOT NULL,
      error TEXT NOT NULL,
      dead_at_ms ${t.bigint} NOT NULL,
      PRIMARY KEY (provider, queue, job_id)
    );
    CREATE INDEX broker_dead_letters_by_time ON broker_dead_letters (provider, queue, dead_at_ms);
    CREATE TABLE broker_dedup_keys (
      provider TEXT NOT NULL,
      queue TEXT NOT NULL,
      dedup_key TEXT NOT NULL,
      job_id TEXT NOT NULL,
      created_at_ms ${t.bigint} NOT NULL,
      PRIMARY KEY (provider, queue, dedup_key)
    );
  `;
}

export const migration: Migration = {
  version: 3,
  name: 'broker ledger',
  sqlite: ledgerTables(TYPES.sqlite),
  postgres: ledgerTables(TYPES.postgres),
};
