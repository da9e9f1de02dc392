import type { RunTarget } from './launcher.js';
import type { RRuleSpec } from '../../core/triggers/rrule.js';

/**
 * Temporal's schedule overlap policies — what a fire does when the deployment's previous run is
 * still going (more precisely: when `maxActiveRuns` runs are active; that limit is 1 unless set,
 * and unlimited for `allow_all`).
 *
 * - `skip`: the fire is recorded Skipped.
 * - `buffer_one`: the fire waits (Buffered) and starts when a run finishes; at most one waits — a
 *   fire arriving while one is already buffered is Skipped.
 * - `buffer_all`: every fire waits, and they start one after another in fire order.
 * - `cancel_other`: the running runs are cancelled and the fire starts once they have stopped; of
 *   several fires waiting that way only the newest starts (the older ones are Skipped).
 * - `allow_all`: start regardless (bounded only by `maxActiveRuns` if given, beyond which fires wait).
 */
export const OverlapPolicy = {
  Skip: 'skip',
  BufferOne: 'buffer_one',
  BufferAll: 'buffer_all',
  CancelOther: 'cancel_other',
  AllowAll: 'allow_all',
} as const;
export type OverlapPolicy = (typeof OverlapPolicy)[keyof typeof OverlapPolicy];

/**
 * What happened to one fire. Pending = recorded and being started (retried if its scheduler died
 * before starting it); Buffered = waiting for a run to finish (overlap policy, maxActiveRuns);
 * Failed = the launcher refused it for good (unknown flow, invalid parameters), `reason` says why.
 */
export const FireState = {
  Pending: 'Pending',
  Buffered: 'Buffered',
  Started: 'Started',
  Skipped: 'Skipped',
  Missed: 'Missed',
  Failed: 'Failed',
} as const;
export type FireState = (typeof FireState)[keyof typeof FireState];

/** Where a fire came from. `schedule` and `backfill` fires share one unique key per tick. */
export type FireOrigin = 'schedule' | 'backfill' | 'manual' | 'event' | 'metric';

/** The stored schedule of a deployment. */
export type ScheduleSpec =
  | { kind: 'cron'; expression: string; timezone: string }
  | { kind: 'interval'; everyMs: number; anchorMs: number }
  | RRuleSpec;

/** A subset of the payload that must match (deep, by equality), stored with the deployment. */
export type PayloadSubset = Record<string, unknown>;

/** Stored form of an event trigger. A predicate cannot be stored; it lives in the registering process. */
export interface EventTriggerSpec {
  kind: 'event';
  event: string;
  match: PayloadSubset | null;
  /** True when a predicate was given (only the process that deployed it can evaluate it). */
  hasPredicate: boolean;
  /** When set, the event payload is passed to the run as this parameter. */
  payloadAs: string | null;
}

/** Stored form of a metric-threshold trigger (see `metricTrigger`). */
export interface MetricTriggerSpec {
  kind: 'metric';
  metric: string;
  above: number | null;
  below: number | null;
  labels: Record<string, string> | null;
  forMs: number;
  debounceMs: number;
  throttleMs: number;
}

export interface Deployment {
  id: string;
  name: string;
  target: RunTarget;
  schedule: ScheduleSpec | null;
  eventTrigger: EventTriggerSpec | null;
  metricTrigger: MetricTriggerSpec | null;
  parameters: Record<string, unknown>;
  overlap: OverlapPolicy;
  catchupWindowMs: number;
  maxActiveRuns: number | null;
  paused: boolean;
  jitterMs: number;
  startMs: number | null;
  endMs: number | null;
  /** The latest scheduled fire the scheduler has dealt with; the next fire is computed after it. */
  lastFireMs: number;
  description: string | null;
  createdAtMs: number;
  updatedAtMs: number;
}

export interface FireRecord {
  fireKey: string;
  deploymentId: string;
  fireMs: number;
  origin: FireOrigin;
  state: FireState;
  runId: string | null;
  reason: string | null;
  recordedAtMs: number;
  startedAtMs: number | null;
  schedulerId: string | null;
}

/** How many runs a deployment may have active before its overlap policy applies. */
export function capacityOf(deployment: Pick<Deployment, 'overlap' | 'maxActiveRuns'>): number {
  if (deployment.maxActiveRuns !== null) return deployment.maxActiveRuns;
  return deployment.overlap === OverlapPolicy.AllowAll ? Number.POSITIVE_INFINITY : 1;
}
