import type { Migration } from './migration.js';

/**
 * What Kairos records for pure brokers (NATS, RabbitMQ, Kafka, Cloud Tasks), which are transport
 * only and cannot be browsed: their dead letters (so the UI and CLI can list, replay and purge them)
 * and their live dedup keys (so a dedup key holds beyond the broker's own duplicate window).
 */
export const migration: Migration = {
  version: 3,
  name: 'broker ledger',
  sqlite: `
    CREATE TABLE broker_dead_letters (
      provider TEXT NOT NULL,
      queue TEXT NOT NULL,
      job_id TEXT NOT NULL,
      job TEXT NOT NULL,
      error TEXT NOT NULL,
      dead_at_ms INTEGER NOT NULL,
      PRIMARY KEY (provider, queue, job_id)
    );
    CREATE INDEX broker_dead_letters_by_time ON broker_dead_letters (provider, queue, dead_at_ms);
    CREATE TABLE broker_dedup_keys (
      provider TEXT NOT NULL,
      queue TEXT NOT NULL,
      dedup_key TEXT NOT NULL,
      job_id TEXT NOT NULL,
      created_at_ms INTEGER NOT NULL,
      PRIMARY KEY (provider, queue, dedup_key)
    );
  `,
  postgres: `
    CREATE TABLE broker_dead_letters (
      provider TEXT NOT NULL,
      queue TEXT NOT NULL,
      job_id TEXT NOT NULL,
      job JSONB NOT NULL,
      error TEXT NOT NULL,
      dead_at_ms BIGINT NOT NULL,
      PRIMARY KEY (provider, queue, job_id)
    );
    CREATE INDEX broker_dead_letters_by_time ON broker_dead_letters (provider, queue, dead_at_ms);
    CREATE TABLE broker_dedup_keys (
      provider TEXT NOT NULL,
      queue TEXT NOT NULL,
      dedup_key TEXT NOT NULL,
      job_id TEXT NOT NULL,
      created_at_ms BIGINT NOT NULL,
      PRIMARY KEY (provider, queue, dedup_key)
    );
  `,
};
