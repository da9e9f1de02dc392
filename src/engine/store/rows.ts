import type { RunState } from '../../core/states.js';
import { LeaseLostError } from '../../errors.js';
import { decodeRecorded } from '../journal/recordable.js';
import type { LogLevel, RecordedError, RunEventRecord, RunKind, RunRecord, StepKind, StepRecord } from '../types.js';

/** Row → record mapping shared by both dialects (PostgreSQL returns BIGINT as text, hence `num`). */
type Row = Record<string, unknown>;

export const TERMINAL_SQL = `('Completed','Failed','TimedOut','Cancelled','Crashed','Skipped','Missed')`;
export const FINISHED_STEP_SQL = `('Completed','Failed','TimedOut','Skipped','Cancelled')`;

/** The timeline message of a takeover after a lease expired. */
export const crashMessage = (owner: string): string => `worker ${owner} stopped renewing its lease; resuming from the journal`;

/** What a fenced journal write throws when its claim is no longer current (see EngineRepository). */
export function leaseLost(lease: { runId: string; owner: string }, what: string): LeaseLostError {
  return new LeaseLostError(
    `Worker ${lease.owner} no longer holds run ${lease.runId} (its lease expired and the run was claimed again, or the run left Running); ${what} was not recorded and this execution stops.`,
    { details: { runId: lease.runId, owner: lease.owner } },
  );
}

function num(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  return Number(value);
}

function text(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function errorOf(value: unknown): RecordedError | null {
  const raw = text(value);
  return raw === null ? null : (JSON.parse(raw) as RecordedError);
}

export function mapRun(row: Row): RunRecord {
  return {
    id: String(row.id),
    kind: row.kind as RunKind,
    name: String(row.name),
    params: decodeRecorded(text(row.params)),
    state: row.state as RunState,
    queue: String(row.queue),
    parentRunId: text(row.parent_run_id),
    deploymentId: text(row.deployment_id),
    idempotencyKey: text(row.idempotency_key),
    tags: JSON.parse(String(row.tags)) as string[],
    attempt: Number(row.attempt),
    createdMs: Number(row.created_ms),
    scheduledMs: Number(row.scheduled_ms),
    startedMs: num(row.started_ms),
    endedMs: num(row.ended_ms),
    updatedMs: Number(row.updated_ms),
    leaseOwner: text(row.lease_owner),
    leaseUntilMs: num(row.lease_until_ms),
    wakeMs: num(row.wake_ms),
    error: errorOf(row.error),
    result: decodeRecorded(text(row.result)),
  };
}

export function mapStep(row: Row): StepRecord {
  return {
    runId: String(row.run_id),
    key: String(row.step_key),
    kind: row.kind as StepKind,
    state: row.state as RunState,
    attempt: Number(row.attempt),
    inputHash: text(row.input_hash),
    input: decodeRecorded(text(row.input)),
    output: decodeRecorded(text(row.output)),
    error: errorOf(row.error),
    queue: text(row.queue),
    cached: Number(row.cached) === 1,
    wakeMs: num(row.wake_ms),
    startedMs: num(row.started_ms),
    endedMs: num(row.ended_ms),
  };
}

export function mapEvent(row: Row): RunEventRecord {
  return {
    id: Number(row.id),
    runId: String(row.run_id),
    stepKey: text(row.step_key),
    type: row.type as RunEventRecord['type'],
    state: text(row.state) as RunState | null,
    level: text(row.level) as LogLevel | null,
    message: text(row.message),
    data: decodeRecorded(text(row.data)),
    atMs: Number(row.at_ms),
  };
}

/** Whether `payload` contains every field of `subset` with an equal value (deeply, for objects). */
export function matchesSubset(payload: unknown, subset: unknown): boolean {
  if (subset === null || typeof subset !== 'object') return Object.is(payload, subset);
  if (payload === null || typeof payload !== 'object') return false;
  if (Array.isArray(subset)) {
    return Array.isArray(payload) && subset.length === payload.length && subset.every((v, i) => matchesSubset(payload[i], v));
  }
  return Object.entries(subset).every(([key, value]) => matchesSubset((payload as Record<string, unknown>)[key], value));
}
