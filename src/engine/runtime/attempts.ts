import { AbortedError, ConfigError, TimeoutError } from '../../errors.js';
import type { Clock } from '../../core/clock.js';

/**
 * Retry policy of a task or step (Prefect's `retries` / `retry_delay_seconds` / `retry_jitter_factor`
 * / `retry_condition_fn`, in milliseconds).
 */
export interface RetryPolicy {
  /** Retries after the first attempt; 0 = run once. */
  count: number;
  /** Wait before the first retry. Default 0. */
  delayMs?: number;
  /** `fixed` waits `delayMs` each time; `exponential` doubles it per retry. Default 'fixed'. */
  backoff?: 'fixed' | 'exponential';
  /** A random 0..jitterMs added to each delay, never subtracted. Default 0. */
  jitterMs?: number;
  /** Return false to fail at once without retrying (e.g. on a validation error). Default: retry all. */
  retryIf?: (error: unknown) => boolean;
}

export function validateRetryPolicy(policy: RetryPolicy | undefined, field: string): void {
  if (policy === undefined) return;
  if (!Number.isInteger(policy.count) || policy.count < 0)
    throw new ConfigError(`${field}.count must be a whole number ≥ 0, got ${String(policy.count)}.`, { details: { field: `${field}.count` } });
  for (const key of ['delayMs', 'jitterMs'] as const) {
    const value = policy[key];
    if (value !== undefined && (!Number.isFinite(value) || value < 0))
      throw new ConfigError(`${field}.${key} must be ≥ 0 milliseconds, got ${String(value)}.`, { details: { field: `${field}.${key}` } });
  }
  if (policy.backoff !== undefined && policy.backoff !== 'fixed' && policy.backoff !== 'exponential')
    throw new ConfigError(`${field}.backoff must be 'fixed' or 'exponential', got '${String(policy.backoff)}'.`, { details: { field: `${field}.backoff` } });
}

/** Delay before retry number `retry` (1 = first retry). */
export function retryDelayMs(policy: RetryPolicy, retry: number, random: () => number = Math.random): number {
  const base = policy.delayMs ?? 0;
  const delay = policy.backoff === 'exponential' ? base * 2 ** (retry - 1) : base;
  return delay + (policy.jitterMs !== undefined && policy.jitterMs > 0 ? Math.floor(random() * policy.jitterMs) : 0);
}

/**
 * Runs one attempt with an optional timeout: past `timeoutMs` the attempt's own AbortSignal fires
 * (so cooperative code stops) and the attempt rejects with TimeoutError.
 */
export async function runAttempt<T>(
  clock: Clock,
  parent: AbortSignal,
  timeoutMs: number | undefined,
  label: string,
  fn: (signal: AbortSignal) => Promise<T> | T,
): Promise<T> {
  if (parent.aborted) throw new AbortedError(`${label} was not started: its run is stopping.`);
  const controller = new AbortController();
  // The attempt stops waiting as soon as the run stops, even if the user's code ignores its signal:
  // the run can then be released; the abandoned promise settles (or not) on its own.
  let stopped: (error: unknown) => void = () => undefined;
  const stop = new Promise<never>((_, reject) => (stopped = reject));
  const forward = (): void => {
    controller.abort(parent.reason);
    stopped(new AbortedError(`${label} was stopped: its run is stopping.`, { cause: parent.reason }));
  };
  parent.addEventListener('abort', forward, { once: true });
  let timer: ReturnType<Clock['setTimer']> | undefined;
  try {
    const work = Promise.resolve().then(() => fn(controller.signal));
    const racers: Array<Promise<T>> = [work, stop];
    if (timeoutMs !== undefined) {
      racers.push(
        new Promise<never>((_, reject) => {
          timer = clock.setTimer(() => {
            const error = new TimeoutError(`${label} ran past its timeout of ${timeoutMs} ms.`, { details: { timeoutMs } });
            controller.abort(error);
            reject(error);
          }, timeoutMs);
        }),
      );
    }
    return await Promise.race(racers);
  } finally {
    if (timer !== undefined) clock.clearTimer(timer);
    parent.removeEventListener('abort', forward);
  }
}
