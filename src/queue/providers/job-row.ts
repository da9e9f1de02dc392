/**
 * The `queue_jobs` row shape shared by the SQLite and PostgreSQL providers: validating a NewJob into
 * column values, and turning a stored row back into a Job. Both dialects store JSON as TEXT so the
 * two stay byte-for-byte comparable.
 */
import { newJobId } from '../job-id.js';
import { ConfigError } from '../../errors.js';
import { DEFAULT_MAX_ATTEMPTS, type BackoffPolicy, type Job, type JobState, type NewJob } from '../contract.js';

/** The `metadata` column of a job enqueued without metadata. */
export const EMPTY_METADATA = '{}';

/** Column values of one new `queue_jobs` row, in the order the INSERT statements list them. */
export interface JobRowValues {
  queue: string;
  id: string;
  name: string;
  payload: string;
  dedup_key: string | null;
  priority: number;
  run_at_ms: number;
  attempt: number;
  max_attempts: number;
  backoff: string | null;
  timeout_ms: number | null;
  metadata: string;
  created_at_ms: number;
  last_error: string | null;
}

/** A `queue_jobs` row as read back (numbers may arrive as strings from PostgreSQL BIGINT). */
export interface JobRow {
  seq: number | string;
  queue: string;
  id: string;
  name: string;
  payload: string;
  dedup_key: string | null;
  priority: number;
  run_at_ms: number | string;
  attempt: number;
  max_attempts: number;
  backoff: string | null;
  timeout_ms: number | string | null;
  metadata: string;
  created_at_ms: number | string;
  last_error: string | null;
  state: 'waiting' | 'active' | 'dead';
  lease_token: string | null;
  lease_until_ms: number | string | null;
  dead_at_ms: number | string | null;
}

function invalid(field: string, message: string, value: unknown): never {
  throw new ConfigError(`Job field '${field}' ${message}`, { details: { field, value } });
}

function checkInteger(field: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) invalid(field, `must be an integer from ${min} to ${max}.`, value);
  return value;
}

/** Validates a job and fills its defaults. Throws ConfigError naming the field. */
export function toJobRow(job: NewJob, nowMs: number): JobRowValues {
  if (typeof job.queue !== 'string' || job.queue.length === 0 || job.queue.length > 200) {
    invalid('queue', 'must be a non-empty string of at most 200 characters.', job.queue);
  }
  if (typeof job.name !== 'string' || job.name.length === 0) invalid('name', 'must be a non-empty handler key.', job.name);
  if (job.id !== undefined && (typeof job.id !== 'string' || job.id.length === 0 || job.id.length > 200)) {
    invalid('id', 'must be a non-empty string of at most 200 characters.', job.id);
  }
  if (job.dedupKey !== undefined && (typeof job.dedupKey !== 'string' || job.dedupKey.length === 0)) {
    invalid('dedupKey', 'must be a non-empty string.', job.dedupKey);
  }
  if (job.runAtMs !== undefined && !Number.isFinite(job.runAtMs)) invalid('runAtMs', 'must be epoch milliseconds.', job.runAtMs);
  if (job.timeoutMs !== undefined && (!Number.isFinite(job.timeoutMs) || job.timeoutMs <= 0)) {
    invalid('timeoutMs', 'must be a positive number of milliseconds.', job.timeoutMs);
  }
  const payload = JSON.stringify(job.payload ?? null);
  return {
    queue: job.queue,
    id: job.id ?? newJobId(),
    name: job.name,
    payload,
    dedup_key: job.dedupKey ?? null,
    priority: checkInteger('priority', job.priority ?? 0, -100, 100),
    run_at_ms: Math.round(job.runAtMs ?? nowMs),
    attempt: checkInteger('attempt', job.attempt ?? 0, 0, 1_000_000),
    max_attempts: checkInteger('maxAttempts', job.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1, 1_000_000),
    backoff: job.backoff === undefined ? null : JSON.stringify(job.backoff),
    timeout_ms: job.timeoutMs === undefined ? null : Math.round(job.timeoutMs),
    metadata: job.metadata == null ? EMPTY_METADATA : JSON.stringify(job.metadata),
    created_at_ms: nowMs,
    last_error: job.lastError ?? null,
  };
}

const toNumber = (value: number | string): number => (typeof value === 'number' ? value : Number(value));

export function rowToJob(row: JobRow): Job {
  return {
    id: row.id,
    queue: row.queue,
    name: row.name,
    payload: JSON.parse(row.payload) as unknown,
    dedupKey: row.dedup_key,
    priority: row.priority,
    runAtMs: toNumber(row.run_at_ms),
    attempt: row.attempt,
    maxAttempts: row.max_attempts,
    backoff: row.backoff === null ? null : (JSON.parse(row.backoff) as BackoffPolicy),
    timeoutMs: row.timeout_ms === null ? null : toNumber(row.timeout_ms),
    metadata: JSON.parse(row.metadata) as Record<string, unknown>,
    createdAtMs: toNumber(row.created_at_ms),
    lastError: row.last_error,
  };
}

/** The state a caller sees: a waiting job whose run time is ahead is 'delayed'. */
export function rowState(row: JobRow, nowMs: number): JobState {
  if (row.state === 'waiting' && toNumber(row.run_at_ms) > nowMs) return 'delayed';
  return row.state;
}

/** Delivery order: priority first, then run time, then insertion. RETURNING does not keep it. */
export function compareDelivery(a: JobRow, b: JobRow): number {
  return b.priority - a.priority || toNumber(a.run_at_ms) - toNumber(b.run_at_ms) || toNumber(a.seq) - toNumber(b.seq);
}

export function deadAtMs(row: JobRow): number {
  return row.dead_at_ms === null ? 0 : toNumber(row.dead_at_ms);
}

export const toMs = toNumber;
