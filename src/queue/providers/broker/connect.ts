import { ProviderUnavailableError } from '../../../errors.js';
import type { ProviderName } from '../../contract.js';

/** Bounded start-up retries shared by every broker provider: how many tries, and the first back-off. */
export interface ConnectRetryOptions {
  /** Connection attempts at start before giving up. Default 5. */
  connectAttempts?: number;
  /** Back-off before the second attempt, doubled each time up to 2 s. Default 200. */
  connectBackoffMs?: number;
}

/**
 * Runs `attempt` until it succeeds or the attempts are spent, then throws ProviderUnavailableError
 * naming the (already redacted) address and wrapping the last error.
 */
export async function connectWithRetries<T>(
  provider: ProviderName,
  displayAddress: string,
  options: ConnectRetryOptions,
  attempt: () => Promise<T>,
): Promise<T> {
  const attempts = Math.max(1, options.connectAttempts ?? 5);
  let backoffMs = options.connectBackoffMs ?? 200;
  let lastError: unknown;
  for (let i = 0; i < attempts; i += 1) {
    try {
      return await attempt();
    } catch (error) {
      lastError = error;
      if (i < attempts - 1) {
        await new Promise((resolve) => setTimeout(resolve, backoffMs));
        backoffMs = Math.min(backoffMs * 2, 2_000);
      }
    }
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new ProviderUnavailableError(
    `Cannot reach the ${provider} broker at ${displayAddress} after ${attempts} attempts (${reason}): is it running, and is the address right?`,
    { cause: lastError, details: { provider, address: displayAddress, attempts } },
  );
}

/** The error every operation throws after `close()`. */
export function closedError(provider: ProviderName): ProviderUnavailableError {
  return new ProviderUnavailableError(`The ${provider} provider is closed: create and connect a new one.`, {
    details: { provider },
  });
}

/** Hides the password of a URL so it can be logged; non-URLs (host:port lists) pass unchanged. */
export function redactAddress(address: string): string {
  try {
    const parsed = new URL(address);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return address;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
