import type { Clock } from '../core/clock.js';
import { toError } from '../errors.js';

/**
 * POSTs JSON to one destination, retrying what is worth retrying: network errors, timeouts, 5xx and
 * 429 (honouring Retry-After). A 4xx other than 429 is the request's fault and is not retried. Never
 * throws: the result says what happened, in words that carry no URL (the caller redacts anyway).
 */

export interface RetryPolicy {
  /** Total attempts, the first included. Default 4. */
  attempts: number;
  /** Wait before the second attempt; doubles per attempt. Default 500. */
  baseDelayMs: number;
  /** Upper bound for one wait, Retry-After included. Default 30000. */
  maxDelayMs: number;
  /** One attempt is abandoned after this long. Default 10000. */
  timeoutMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = { attempts: 4, baseDelayMs: 500, maxDelayMs: 30_000, timeoutMs: 10_000 };

export interface DeliveryResult {
  ok: boolean;
  /** Last HTTP status, or null when no response came back. */
  status: number | null;
  attempts: number;
  /** Why it failed, without the URL. */
  error: string | null;
}

function sleep(clock: Clock, delayMs: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const onAbort = () => {
      clock.clearTimer(timer);
      resolve();
    };
    const timer = clock.setTimer(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, delayMs);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function retryAfterMs(header: string | null): number | null {
  if (header === null) return null;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1_000;
  const dateMs = Date.parse(header);
  return Number.isNaN(dateMs) ? null : Math.max(0, dateMs - Date.now());
}

/** Describes a fetch failure by its cause code (ECONNREFUSED, UND_ERR_…), never by the URL. */
function describeNetworkError(error: unknown): string {
  const err = toError(error);
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return 'request timed out or was aborted';
  const cause = (err as { cause?: unknown }).cause;
  const code = typeof cause === 'object' && cause !== null ? (cause as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? `network error ${code}` : 'network error';
}

export async function postJson(
  url: string,
  body: unknown,
  options: {
    headers: Record<string, string>;
    retry: RetryPolicy;
    clock: Clock;
    /** Stops retrying (and cuts a backoff wait short); an attempt in progress still runs to its timeout. */
    stopRetries: AbortSignal;
  },
): Promise<DeliveryResult> {
  const { retry, clock, stopRetries: signal } = options;
  const payload = JSON.stringify(body);
  let status: number | null = null;
  let error: string | null = null;
  for (let attempt = 1; attempt <= retry.attempts; attempt += 1) {
    let waitMs: number | null = null;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...options.headers },
        body: payload,
        redirect: 'error',
        signal: AbortSignal.timeout(retry.timeoutMs),
      });
      status = response.status;
      // Drain the body so the connection is released back to the pool.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return { ok: true, status, attempts: attempt, error: null };
      error = `HTTP ${status}`;
      if (status !== 429 && status < 500) return { ok: false, status, attempts: attempt, error };
      if (status === 429) waitMs = retryAfterMs(response.headers.get('retry-after'));
    } catch (thrown) {
      status = null;
      error = describeNetworkError(thrown);
    }
    if (signal.aborted) return { ok: false, status, attempts: attempt, error: error ?? 'aborted' };
    if (attempt < retry.attempts) {
      const backoffMs = retry.baseDelayMs * 2 ** (attempt - 1);
      await sleep(clock, Math.min(retry.maxDelayMs, waitMs ?? backoffMs), signal);
    } else {
      return { ok: false, status, attempts: attempt, error };
    }
  }
  return { ok: false, status, attempts: retry.attempts, error };
}
