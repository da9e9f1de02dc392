import { InvalidProfileError } from '../errors.js';
import { parseDuration } from './duration.js';
import type { Lane } from './states.js';

/**
 * The decision matrix: describe a job, get the lane that suits it and the reasons, in the order the
 * seed's decision tree asks its questions.
 *
 * One question is asked before the seed's first: is the work event-triggered and multi-step or
 * long-running? The seed's own ADR sends "retraining triggered when drift crosses a threshold" to
 * Temporal even though it is user-visible, so event-driven processes must be recognised before the
 * visibility question would send them to the flow lane.
 */
export interface TaskProfile {
  /**
   * How often the job runs: a duration (`'30s'`, `'1h'`, `'90d'`, milliseconds), a word (`'hourly'`,
   * `'daily'`, `'weekly'`, `'monthly'`), or `'adhoc'` / `'scheduled'` for work with no fixed period.
   */
  frequency: string | number;
  /** `user`: people look at it, trigger it, want its history. Default `internal`. */
  visibility?: 'internal' | 'user';
  /** `simple`: one function. `dag`: steps with dependencies. `complex`: many steps, branches, fan-out. */
  complexity?: 'simple' | 'dag' | 'complex';
  /** `persistent`: must survive a restart of the process. Default `ephemeral`. */
  durability?: 'ephemeral' | 'persistent';
  /** `distributed`: runs on other machines than the one that schedules it. Default `local`. */
  infrastructure?: 'local' | 'distributed';
  /** Started by an event (a drift alert, a webhook, a signal) rather than by the clock. */
  eventTriggered?: boolean;
}

export interface LaneDecision {
  lane: Lane;
  /** Each question asked, with its answer, in order; the last one decided. */
  reasons: string[];
}

const WORDS_MS: Record<string, number | null> = {
  minutely: 60_000,
  hourly: 3_600_000,
  daily: 86_400_000,
  weekly: 604_800_000,
  monthly: 2_592_000_000,
  yearly: 31_536_000_000,
  adhoc: null,
  'ad-hoc': null,
  'ad hoc': null,
  scheduled: null,
  once: null,
};

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;

/** The period in ms, or null for work without a fixed period (ad hoc, scheduled once a while). */
export function parseFrequency(frequency: string | number): number | null {
  if (typeof frequency === 'string') {
    const word = frequency.trim().toLowerCase();
    if (word in WORDS_MS) return WORDS_MS[word] ?? null;
  }
  try {
    return parseDuration(frequency, 'frequency');
  } catch (cause) {
    throw new InvalidProfileError(
      `frequency: '${String(frequency)}' is not a frequency. Use a duration ('30s', '5m', '1h', '90d') or one of ${Object.keys(WORDS_MS).join(', ')}.`,
      { cause, details: { field: 'frequency', value: frequency } },
    );
  }
}

function checkEnum<T extends string>(field: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) {
    throw new InvalidProfileError(`${field}: '${String(value)}' is not one of ${allowed.join(' | ')}.`, {
      details: { field, value, allowed },
    });
  }
  return value;
}

function describePeriod(periodMs: number | null): string {
  if (periodMs === null) return 'no fixed period';
  if (periodMs < MINUTE_MS) return `every ${periodMs / 1_000}s`;
  if (periodMs < HOUR_MS) return `every ${periodMs / MINUTE_MS}m`;
  if (periodMs < 86_400_000) return `every ${periodMs / HOUR_MS}h`;
  return `every ${Math.round((periodMs / 86_400_000) * 10) / 10}d`;
}

/** Chooses a lane for a task profile and explains why. Pure; throws InvalidProfileError on bad input. */
export function select(profile: TaskProfile): LaneDecision {
  const periodMs = parseFrequency(profile.frequency);
  const visibility = checkEnum('visibility', profile.visibility, ['internal', 'user'], 'internal');
  const complexity = checkEnum('complexity', profile.complexity, ['simple', 'dag', 'complex'], 'simple');
  const durability = checkEnum('durability', profile.durability, ['ephemeral', 'persistent'], 'ephemeral');
  const infrastructure = checkEnum('infrastructure', profile.infrastructure, ['local', 'distributed'], 'local');
  const eventTriggered = profile.eventTriggered === true;
  const multiStep = complexity !== 'simple';
  const reasons: string[] = [];

  if (eventTriggered && (multiStep || durability === 'persistent')) {
    reasons.push(
      `event-triggered and ${multiStep ? 'multi-step' : 'must survive restarts'}: a long-running process that waits for events needs durable steps, durable sleep and signals`,
    );
    return { lane: 'workflow', reasons };
  }
  if (eventTriggered) reasons.push('event-triggered but a single, ephemeral step: no durable process needed');

  if (visibility === 'user') {
    reasons.push('user-facing: people need its history, its graph and a button to run it');
    return { lane: 'flow', reasons };
  }
  reasons.push('internal: no one needs a dashboard for it');

  if (infrastructure === 'distributed' || durability === 'persistent') {
    const why = [infrastructure === 'distributed' ? 'runs on other machines' : '', durability === 'persistent' ? 'must survive restarts' : '']
      .filter(Boolean)
      .join(' and ');
    reasons.push(`${why}: a durable queue with retries and dead letters`);
    return { lane: 'queue', reasons };
  }
  reasons.push('in-process and ephemeral: losing a fire on a crash is acceptable');

  if (periodMs !== null && periodMs <= HOUR_MS) {
    reasons.push(`${describePeriod(periodMs)} (an hour or less): frequent, short work belongs in the process`);
    return { lane: 'local', reasons };
  }
  reasons.push(`${describePeriod(periodMs)} (over an hour or ad hoc): look at its complexity`);

  if (multiStep) {
    reasons.push(`${complexity}: steps with dependencies want a DAG with per-task history`);
    return { lane: 'flow', reasons };
  }
  reasons.push('simple: one function on a timer');
  return { lane: 'local', reasons };
}

/**
 * The lane to suggest for a local job that broke the local lane's checklist (ran past its budget or
 * blocked the event loop): long work belongs on a worker, multi-step work in a flow.
 */
export function suggestLaneForMisfit(options: { multiStep?: boolean } = {}): Lane {
  return options.multiStep === true ? 'flow' : 'queue';
}
