import type { Job, DeadLetter } from '../contract.js';

/**
 * Store-backed records for pure brokers (NATS, RabbitMQ, Kafka, Cloud Tasks). A broker is transport:
 * it cannot list its dead letters or hold a dedup key past its own duplicate window, so Kairos keeps
 * those facts in its store (SQLite or PostgreSQL, migration 003). Every record is scoped by provider
 * name and queue, so one store serves several brokers.
 */
export interface BrokerLedger {
  /** Records a dead letter; a second record for the same job id replaces the first. */
  putDeadLetter(provider: string, letter: DeadLetter): Promise<void>;
  getDeadLetter(provider: string, queue: string, jobId: string): Promise<DeadLetter | null>;
  /** Oldest first. `limit` default 100, `offset` default 0. */
  listDeadLetters(provider: string, queue: string, options?: { limit?: number; offset?: number }): Promise<DeadLetter[]>;
  /** Removes and returns dead letters: those with `ids`, or all of the queue when `ids` is omitted. */
  takeDeadLetters(provider: string, queue: string, ids?: readonly string[]): Promise<DeadLetter[]>;
  countDeadLetters(provider: string, queue: string): Promise<number>;

  /**
   * Claims dedup keys for jobs, all in one transaction. For each claim, returns the id of the job that
   * already held the key (which may be the same job id: a re-sent job), or null when this claim took it. A key stays live until
   * `releaseDedupKeys` is called for its job (on ack or dead letter).
   */
  claimDedupKeys(provider: string, queue: string, claims: readonly DedupClaim[]): Promise<(string | null)[]>;
  /** Releases keys, but only where the named job still holds them (a stale release never frees another job's key). */
  releaseDedupKeys(provider: string, queue: string, claims: readonly DedupClaim[]): Promise<void>;
  /** Forgets every record of a queue (tests, queue deletion). */
  dropQueue(provider: string, queue: string): Promise<void>;
}

export interface DedupClaim {
  key: string;
  jobId: string;
}

export const DEFAULT_DEAD_LETTER_PAGE = 100;

/** The row shape both dialects read back; `job` is JSON text on SQLite and already parsed on PostgreSQL. */
export interface DeadLetterRow {
  job: string | Job;
  error: string;
  dead_at_ms: number | string;
}

export function rowToDeadLetter(row: DeadLetterRow): DeadLetter {
  const job = typeof row.job === 'string' ? (JSON.parse(row.job) as Job) : row.job;
  return { job, error: row.error, deadAtMs: Number(row.dead_at_ms) };
}
