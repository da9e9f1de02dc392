import { ConfigError } from '../../errors.js';

/**
 * Airflow's trigger rules: when a task runs, given how its upstream tasks ended.
 *
 * - `all_success` (default): every upstream succeeded. A failed upstream makes the task
 *   upstream-failed; a skipped one makes it skipped — which is how skips propagate down a chain.
 * - `all_failed`: every upstream failed or was upstream-failed (a cleanup/alert branch).
 * - `all_done`: every upstream finished, however.
 * - `one_success`: runs as soon as one upstream succeeded, without waiting for the rest.
 * - `one_failed`: runs as soon as one upstream failed.
 * - `none_failed`: no upstream failed (success or skipped), once all are done.
 * - `none_failed_min_one_success`: no upstream failed and at least one succeeded.
 * - `always`: no dependency at all — runs at once; the graph edge is for display and for the
 *   outputs of upstreams that happen to be done.
 */
export const TriggerRule = {
  AllSuccess: 'all_success',
  AllFailed: 'all_failed',
  AllDone: 'all_done',
  OneSuccess: 'one_success',
  OneFailed: 'one_failed',
  NoneFailed: 'none_failed',
  NoneFailedMinOneSuccess: 'none_failed_min_one_success',
  Always: 'always',
} as const;
export type TriggerRule = (typeof TriggerRule)[keyof typeof TriggerRule];

/** How a finished task ended, as trigger rules see it (Airflow's success/failed/upstream_failed/skipped). */
export type TaskOutcome = 'success' | 'failed' | 'upstream_failed' | 'skipped';

/** What a task should do now: run, be skipped, be marked upstream-failed, or wait for more upstreams. */
export type RuleDecision = 'run' | 'skip' | 'upstream_failed' | 'wait';

export function isTriggerRule(value: unknown): value is TriggerRule {
  return typeof value === 'string' && (Object.values(TriggerRule) as string[]).includes(value);
}

export function assertTriggerRule(value: unknown, field: string): asserts value is TriggerRule {
  if (!isTriggerRule(value)) {
    throw new ConfigError(`${field}: '${String(value)}' is not a trigger rule; use one of ${Object.values(TriggerRule).join(', ')}.`, {
      details: { field, value: String(value) },
    });
  }
}

/** `upstream` holds one entry per upstream task: its outcome, or undefined while it has not finished. */
export function evaluateTriggerRule(rule: TriggerRule, upstream: ReadonlyArray<TaskOutcome | undefined>): RuleDecision {
  if (upstream.length === 0 || rule === 'always') return 'run';
  let success = 0;
  let failed = 0;
  let skipped = 0;
  let pending = 0;
  for (const outcome of upstream) {
    if (outcome === undefined) pending += 1;
    else if (outcome === 'success') success += 1;
    else if (outcome === 'skipped') skipped += 1;
    else failed += 1;
  }
  const allDone = pending === 0;
  switch (rule) {
    case 'all_success':
      if (failed > 0) return 'upstream_failed';
      if (skipped > 0) return 'skip';
      return allDone ? 'run' : 'wait';
    case 'all_failed':
      if (success > 0 || skipped > 0) return 'skip';
      return allDone ? 'run' : 'wait';
    case 'all_done':
      return allDone ? 'run' : 'wait';
    case 'one_success':
      if (success > 0) return 'run';
      if (!allDone) return 'wait';
      return failed > 0 ? 'upstream_failed' : 'skip';
    case 'one_failed':
      if (failed > 0) return 'run';
      return allDone ? 'skip' : 'wait';
    case 'none_failed':
      if (failed > 0) return 'upstream_failed';
      return allDone ? 'run' : 'wait';
    case 'none_failed_min_one_success':
      if (failed > 0) return 'upstream_failed';
      if (!allDone) return 'wait';
      return success > 0 ? 'run' : 'skip';
  }
}
