/**
 * How long a failed job waits before its next attempt. Exponential backoff doubles from `delayMs`
 * up to `maxDelayMs`; jitter adds a random fraction on top so that jobs which failed together (a
 * broker hiccup) do not all retry in the same millisecond.
 */
import { ConfigError } from '../errors.js';
import type { BackoffPolicy } from './contract.js';

/** Used when neither the job nor the worker names a policy: 1 s, 2 s, 4 s… up to 1 h, +0–20 %. */
export const DEFAULT_BACKOFF: BackoffPolicy = { type: 'exponential', delayMs: 1_000, maxDelayMs: 3_600_000, jitter: 0.2 };
export const DEFAULT_MAX_BACKOFF_MS = 3_600_000;

/**
 * The delay after attempt number `attempt` (1-based: the attempt that just failed) failed.
 * `random` is injectable so tests can pin the jitter.
 */
export function backoffDelayMs(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const maxDelayMs = policy.maxDelayMs ?? DEFAULT_MAX_BACKOFF_MS;
  const exponent = Math.max(0, attempt - 1);
  // 2 ** 60 is already far past any maxDelayMs; capping the exponent keeps the number finite.
  const base = policy.type === 'fixed' ? policy.delayMs : policy.delayMs * 2 ** Math.min(exponent, 60);
  const capped = Math.min(base, maxDelayMs);
  const jitter = policy.jitter ?? 0;
  return Math.round(Math.min(capped + capped * jitter * random(), maxDelayMs));
}

/** Validates a policy given by a caller; `field` names it in the error (e.g. 'backoff'). */
export function checkBackoff(policy: BackoffPolicy, field = 'backoff'): BackoffPolicy {
  const fail = (message: string, value: unknown): never => {
    throw new ConfigError(`${field}: ${message}`, { details: { field, value } });
  };
  if (typeof policy !== 'object' || policy === null) fail("must be an object like { type: 'exponential', delayMs: 1000 }.", policy);
  if (policy.type !== 'fixed' && policy.type !== 'exponential') fail("type must be 'fixed' or 'exponential'.", policy.type);
  if (!Number.isFinite(policy.delayMs) || policy.delayMs < 0) fail('delayMs must be a number of milliseconds ≥ 0.', policy.delayMs);
  if (policy.maxDelayMs !== undefined && (!Number.isFinite(policy.maxDelayMs) || policy.maxDelayMs < policy.delayMs)) {
    fail('maxDelayMs must be a number of milliseconds ≥ delayMs.', policy.maxDelayMs);
  }
  if (policy.jitter !== undefined && (!Number.isFinite(policy.jitter) || policy.jitter < 0 || policy.jitter > 1)) {
    fail('jitter must be a fraction from 0 to 1.', policy.jitter);
  }
  return policy;
}
