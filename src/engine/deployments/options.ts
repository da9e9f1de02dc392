import { ConfigError } from '../../errors.js';
import { parseDuration, type Duration } from '../../core/duration.js';
import type { RunTarget } from './launcher.js';
import { assertTimezone } from '../../core/triggers/zone.js';
import {
  OverlapPolicy,
  type EventTriggerSpec,
  type MetricTriggerSpec,
  type PayloadSubset,
  type ScheduleSpec,
} from './types.js';

/** A schedule as users write it. Every form takes an IANA `timezone` (default 'UTC') where it matters. */
export type ScheduleInput =
  | { cron: string; timezone?: string }
  | { every: Duration; /** Fires at anchorMs + k·every. Default: the deploy time. */ anchorMs?: number }
  | { rrule: string; timezone?: string; /** Anchor for a rule without DTSTART. Default: startMs, else the deploy time. */ anchorMs?: number };

/** Start the deployment when an event with this name is emitted and its payload matches. */
export interface EventTriggerInput {
  event: string;
  /** A subset the payload must contain (deep equality on each given key), or a predicate. Default: any payload. */
  match?: PayloadSubset | ((payload: unknown) => boolean);
  /** Pass the payload to the run as this parameter. Default: not passed. */
  payloadAs?: string;
}

export interface DeployOptions {
  /** Unique deployment name (`etl-daily-prod`). Deploying an existing name updates it (Prefect's apply). */
  name: string;
  /** When to start runs. Default: none (started only by trigger now, events or metrics). */
  schedule?: ScheduleInput;
  /** An event trigger, or a metric trigger built with `metricTrigger(...)`. Default: none. */
  on?: EventTriggerInput | MetricTriggerSpec;
  /** Parameters every run of this deployment receives (a trigger-now may override some). Default `{}`. */
  parameters?: Record<string, unknown>;
  /** What a fire does while a run is still active. Default 'skip' (Temporal's default). */
  overlap?: OverlapPolicy;
  /**
   * Fires missed while no scheduler ran are started if they are at most this old when the scheduler
   * comes back; older ones are recorded Missed. Default 60 000 (one minute: a restart or a failover is
   * caught up, a long outage is not replayed). Backfill is the tool for longer gaps.
   */
  catchupWindowMs?: Duration;
  /** Active runs allowed before the overlap policy applies. Default 1 (unlimited for 'allow_all'). */
  maxActiveRuns?: number;
  /** Deploy paused: nothing fires until resumed. Default false. */
  paused?: boolean;
  /** Delay each scheduled start by up to this much (never early), stable per fire. Default 0. */
  jitterMs?: Duration;
  /** No scheduled fire before this instant. Default: none. */
  startMs?: number;
  /** No scheduled fire after this instant. Default: none. */
  endMs?: number;
  /** Shown in the CLI and UI. */
  description?: string;
}

export interface NormalisedDeployOptions {
  name: string;
  schedule: ScheduleSpec | null;
  eventTrigger: EventTriggerSpec | null;
  predicate: ((payload: unknown) => boolean) | null;
  metricTrigger: MetricTriggerSpec | null;
  parameters: Record<string, unknown>;
  overlap: OverlapPolicy;
  catchupWindowMs: number;
  maxActiveRuns: number | null;
  paused: boolean;
  jitterMs: number;
  startMs: number | null;
  endMs: number | null;
  description: string | null;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const OVERLAPS: readonly string[] = Object.values(OverlapPolicy);
const DEPLOY_KEYS = new Set([
  'name', 'schedule', 'on', 'parameters', 'overlap', 'catchupWindowMs', 'maxActiveRuns', 'paused', 'jitterMs', 'startMs', 'endMs', 'description',
]);

function fail(field: string, message: string, value?: unknown): never {
  throw new ConfigError(`${field}: ${message}`, { details: { field, value } });
}

export function validateTarget(target: unknown): RunTarget {
  if (typeof target !== 'object' || target === null) fail('target', "give { kind: 'flow' | 'workflow', name } or a flow/workflow definition.");
  const { kind, name } = target as { kind?: unknown; name?: unknown };
  if (kind !== 'flow' && kind !== 'workflow') fail('target.kind', "must be 'flow' or 'workflow'.", kind);
  if (typeof name !== 'string' || name.length === 0) fail('target.name', 'must be the registered flow or workflow name.', name);
  return { kind, name };
}

/** Checks every option and fills in the defaults; nothing is stored until this has passed. */
export function normaliseDeployOptions(options: DeployOptions, nowMs: number): NormalisedDeployOptions {
  if (typeof options !== 'object' || options === null) fail('options', 'expected an object with at least a name.');
  for (const key of Object.keys(options)) {
    if (!DEPLOY_KEYS.has(key)) fail(key, `unknown deployment option. Allowed: ${[...DEPLOY_KEYS].join(', ')}.`);
  }
  if (typeof options.name !== 'string' || !NAME.test(options.name)) {
    fail('name', "must be 1–128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit.", options.name);
  }
  const overlap = options.overlap ?? OverlapPolicy.Skip;
  if (!OVERLAPS.includes(overlap)) fail('overlap', `must be one of ${OVERLAPS.join(', ')}.`, overlap);
  const parameters = options.parameters ?? {};
  if (typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    fail('parameters', 'must be an object of parameter names to values.', parameters);
  }
  try {
    JSON.stringify(parameters);
  } catch {
    fail('parameters', 'must be JSON-serialisable (they are stored with the deployment).');
  }
  const maxActiveRuns = options.maxActiveRuns ?? null;
  if (maxActiveRuns !== null && (!Number.isInteger(maxActiveRuns) || maxActiveRuns < 1)) {
    fail('maxActiveRuns', 'must be a whole number ≥ 1.', maxActiveRuns);
  }
  const startMs = optionalInstant(options.startMs, 'startMs');
  const endMs = optionalInstant(options.endMs, 'endMs');
  if (startMs !== null && endMs !== null && endMs < startMs) fail('endMs', 'must not be before startMs.', endMs);
  const { eventTrigger, predicate, metricTrigger } = normaliseOn(options.on);
  return {
    name: options.name,
    schedule: options.schedule === undefined ? null : normaliseSchedule(options.schedule, startMs ?? nowMs),
    eventTrigger,
    predicate,
    metricTrigger,
    parameters,
    overlap,
    catchupWindowMs: parseDuration(options.catchupWindowMs ?? 60_000, 'catchupWindowMs', { allowZero: true }),
    maxActiveRuns,
    paused: options.paused ?? false,
    jitterMs: parseDuration(options.jitterMs ?? 0, 'jitterMs', { allowZero: true }),
    startMs,
    endMs,
    description: options.description ?? null,
  };
}

function optionalInstant(value: number | undefined, field: string): number | null {
  if (value === undefined) return null;
  if (!Number.isFinite(value)) fail(field, 'must be epoch milliseconds (Date.parse(...) or date.getTime()).', value);
  return value;
}

export function normaliseSchedule(input: ScheduleInput, defaultAnchorMs: number): ScheduleSpec {
  if (typeof input !== 'object' || input === null) fail('schedule', "give { cron }, { every } or { rrule }.");
  const forms = (['cron', 'every', 'rrule'] as const).filter((key) => key in input);
  if (forms.length !== 1) fail('schedule', `give exactly one of cron, every, rrule (got ${forms.join(', ') || 'none'}).`);
  if ('cron' in input) {
    if (typeof input.cron !== 'string' || input.cron.trim() === '') fail('schedule.cron', "must be a cron expression such as '0 6 * * 1'.", input.cron);
    const timezone = input.timezone ?? 'UTC';
    assertTimezone(timezone, 'schedule.timezone');
    return { kind: 'cron', expression: input.cron.trim(), timezone };
  }
  if ('every' in input) {
    const everyMs = parseDuration(input.every, 'schedule.every');
    return { kind: 'interval', everyMs, anchorMs: optionalInstant(input.anchorMs, 'schedule.anchorMs') ?? defaultAnchorMs };
  }
  if (typeof input.rrule !== 'string' || input.rrule.trim() === '') fail('schedule.rrule', "must be RRULE text such as 'FREQ=WEEKLY;BYDAY=MO;BYHOUR=6'.");
  if (input.timezone !== undefined) assertTimezone(input.timezone, 'schedule.timezone');
  // The anchor is stored so that a rule without DTSTART means the same thing after a restart.
  return { kind: 'rrule', rule: input.rrule.trim(), timezone: input.timezone, startMs: optionalInstant(input.anchorMs, 'schedule.anchorMs') ?? defaultAnchorMs };
}

function normaliseOn(on: DeployOptions['on']): {
  eventTrigger: EventTriggerSpec | null;
  predicate: ((payload: unknown) => boolean) | null;
  metricTrigger: MetricTriggerSpec | null;
} {
  if (on === undefined) return { eventTrigger: null, predicate: null, metricTrigger: null };
  if (typeof on !== 'object' || on === null) fail('on', "give { event, match? } or metricTrigger({...}).");
  if ('kind' in on && on.kind === 'metric') return { eventTrigger: null, predicate: null, metricTrigger: on };
  const input = on as EventTriggerInput;
  if (typeof input.event !== 'string' || input.event.trim() === '') fail('on.event', "must be the event name, e.g. 'drift.detected'.", input.event);
  const match = input.match;
  if (match !== undefined && typeof match !== 'function' && (typeof match !== 'object' || match === null || Array.isArray(match))) {
    fail('on.match', 'must be an object the payload must contain, or a predicate function.', match);
  }
  if (input.payloadAs !== undefined && (typeof input.payloadAs !== 'string' || input.payloadAs === '')) {
    fail('on.payloadAs', 'must be a parameter name.', input.payloadAs);
  }
  return {
    eventTrigger: {
      kind: 'event',
      event: input.event,
      match: typeof match === 'object' ? match : null,
      hasPredicate: typeof match === 'function',
      payloadAs: input.payloadAs ?? null,
    },
    predicate: typeof match === 'function' ? match : null,
    metricTrigger: null,
  };
}
