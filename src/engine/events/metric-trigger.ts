import { parseDuration, type Duration } from '../../core/duration.js';
import { ConfigError } from '../../errors.js';
import type { MetricTriggerSpec } from '../deployments/types.js';

export interface MetricTriggerOptions {
  /** The metric name passed to `recordMetric`. */
  metric: string;
  /** The condition holds while the value is strictly above this. Give `above` or `below`. */
  above?: number;
  /** The condition holds while the value is strictly below this. */
  below?: number;
  /** Only samples whose labels include these. Default: any labels. */
  labels?: Record<string, string>;
  /** The condition must hold this long, continuously, before a run starts (Prometheus `for`). Default 0. */
  forMs?: Duration;
  /**
   * Dips shorter than this do not break the condition: it ends only after this much quiet (samples
   * under the threshold for debounceMs). A noisy series that wobbles around the threshold is one
   * episode, hence one run. Default 0 (any sample under the threshold ends the episode).
   */
  debounceMs?: Duration;
  /** At most one start per this period, across episodes. Default 0 (no limit beyond one per episode). */
  throttleMs?: Duration;
}

/**
 * A metric-threshold trigger for `deploy(..., { on: metricTrigger({...}) })`, fed by `recordMetric`.
 * It starts a run once per episode: when the condition has held for `forMs`; the episode ends when
 * the condition has been false for `debounceMs`; `throttleMs` bounds starts across episodes.
 *
 * @throws ConfigError naming the field (missing metric, neither or both of above/below…).
 */
export function metricTrigger(options: MetricTriggerOptions): MetricTriggerSpec {
  const fail = (field: string, message: string, value?: unknown): never => {
    throw new ConfigError(`metricTrigger.${field}: ${message}`, { details: { field: `on.${field}`, value } });
  };
  if (typeof options.metric !== 'string' || options.metric.trim() === '') fail('metric', "give the metric name, e.g. 'drift_score'.", options.metric);
  const above = options.above ?? null;
  const below = options.below ?? null;
  if ((above === null) === (below === null)) fail('above', 'give exactly one of above or below.');
  for (const [field, value] of [['above', above], ['below', below]] as const) {
    if (value !== null && !Number.isFinite(value)) fail(field, 'must be a finite number.', value);
  }
  if (options.labels !== undefined && (typeof options.labels !== 'object' || options.labels === null)) {
    fail('labels', 'must be an object of label names to values.', options.labels);
  }
  return {
    kind: 'metric',
    metric: options.metric,
    above,
    below,
    labels: options.labels ?? null,
    forMs: parseDuration(options.forMs ?? 0, 'metricTrigger.forMs', { allowZero: true }),
    debounceMs: parseDuration(options.debounceMs ?? 0, 'metricTrigger.debounceMs', { allowZero: true }),
    throttleMs: parseDuration(options.throttleMs ?? 0, 'metricTrigger.throttleMs', { allowZero: true }),
  };
}

/** What a metric trigger remembers between samples (stored, so it survives restarts). */
export interface MetricTriggerState {
  /** When the current episode began (the first sample over the threshold), or null between episodes. */
  episodeSinceMs: number | null;
  /** The last sample over the threshold. */
  lastTrueMs: number | null;
  lastValue: number | null;
  lastSampleMs: number | null;
  firedInEpisode: boolean;
  lastFiredMs: number | null;
}

export const INITIAL_METRIC_STATE: MetricTriggerState = {
  episodeSinceMs: null,
  lastTrueMs: null,
  lastValue: null,
  lastSampleMs: null,
  firedInEpisode: false,
  lastFiredMs: null,
};

export function labelsMatch(spec: MetricTriggerSpec, labels: Record<string, string>): boolean {
  return spec.labels === null || Object.entries(spec.labels).every(([key, value]) => labels[key] === value);
}

/**
 * One step of the trigger: the state after a sample, and whether that sample starts a run. Pure;
 * samples older than the last one seen are ignored (they cannot reorder an episode).
 */
export function evaluateMetricSample(
  spec: MetricTriggerSpec,
  state: MetricTriggerState,
  value: number,
  atMs: number,
): { state: MetricTriggerState; fire: boolean } {
  if (state.lastSampleMs !== null && atMs < state.lastSampleMs) return { state, fire: false };
  const breach = spec.above !== null ? value > spec.above : spec.below !== null && value < spec.below;
  const next: MetricTriggerState = { ...state, lastValue: value, lastSampleMs: atMs };
  if (breach) {
    if (next.episodeSinceMs === null) {
      next.episodeSinceMs = atMs;
      next.firedInEpisode = false;
    }
    next.lastTrueMs = atMs;
  } else if (next.episodeSinceMs !== null && atMs - (next.lastTrueMs ?? atMs) >= spec.debounceMs) {
    next.episodeSinceMs = null;
    next.firedInEpisode = false;
  }
  const held = next.episodeSinceMs !== null && breach && atMs - next.episodeSinceMs >= spec.forMs;
  const throttled = next.lastFiredMs !== null && atMs - next.lastFiredMs < spec.throttleMs;
  if (held && !next.firedInEpisode && !throttled) {
    next.firedInEpisode = true;
    next.lastFiredMs = atMs;
    return { state: next, fire: true };
  }
  return { state: next, fire: false };
}
