import { systemClock, type Clock, type TimerHandle } from '../core/clock.js';
import { silentLogger, type Logger } from '../core/logger.js';
import { ConfigError, InvalidParametersError, toError } from '../errors.js';
import { normalizeAlert, type Alert, type NormalizedAlert } from './alert.js';
import { DEFAULT_RETRY_POLICY, postJson, type DeliveryResult, type RetryPolicy } from './deliver.js';
import { formatSlackMessage, formatWebhookPayload, type AlertMessage } from './messages.js';
import { createRedactor, type Redactor } from './redact.js';

/**
 * The alerter turns a stream of alerts into few messages.
 *
 * De-duplication: alerts with one fingerprint (kind + subject + error class) open a window of
 * `dedupWindowMs`. The first is sent at once; the rest are counted. When the window closes with a
 * count, one summary ("and 999 more like this in the last 5m") is sent and the window starts again,
 * so a problem that keeps happening sends one message per window; a window that closes with no
 * repeats is forgotten, and the next occurrence is news again.
 *
 * Rate limit: at most `rateLimit.max` messages per `rateLimit.perMs` across all fingerprints. A
 * message over the limit is dropped and counted; the next message that goes out says how many.
 *
 * Delivery: every destination gets every message, independently, with retries on network errors,
 * 5xx and 429. `notify` never throws and its promise never rejects. Webhook URLs and header values
 * are secrets: they are never logged, and are redacted from alert texts too.
 */

export interface SlackDestination {
  /** The Slack incoming-webhook URL (a secret). */
  webhookUrl: string;
}

export interface WebhookDestination {
  /** Receiver URL (may carry a secret in its path or query). */
  url: string;
  /** Extra request headers, e.g. `authorization`. Values are treated as secrets. Default none. */
  headers?: Record<string, string>;
  /** A name for logs, since the URL is never logged. Default `webhook[i]`. */
  name?: string;
}

export interface AlerterOptions {
  /** Slack incoming webhook. Default: none. */
  slack?: SlackDestination;
  /** Generic JSON webhooks. Default: none. */
  webhooks?: readonly WebhookDestination[];
  /**
   * Base URL of the Kairos UI, for run links (`${baseUrl}/runs/${runId}`). Required. A function is
   * read per message (createKairos passes its own URL, known only once it listens).
   */
  baseUrl: string | (() => string);
  /** Repeats of one fingerprint within this window become one summary. Default 300000 (5 min). */
  dedupWindowMs?: number;
  /** At most `max` messages per `perMs`, all fingerprints together. Default { max: 30, perMs: 60000 }. */
  rateLimit?: { max: number; perMs: number };
  /** Retries per destination. Default { attempts: 4, baseDelayMs: 500, maxDelayMs: 30000, timeoutMs: 10000 }. */
  retry?: Partial<RetryPolicy>;
  /** More strings to redact from alerts and logs (broker passwords, tokens). Default none. */
  secrets?: readonly string[];
  /** Default systemClock. */
  clock?: Clock;
  /** Delivery failures are logged here (never with a URL). Default silent. */
  logger?: Logger;
}

export type NotifyOutcome =
  | { outcome: 'sent'; deliveries: DestinationResult[] }
  | { outcome: 'deduplicated' }
  | { outcome: 'rate_limited' }
  | { outcome: 'rejected'; error: InvalidParametersError }
  | { outcome: 'closed' };

export interface DestinationResult extends DeliveryResult {
  destination: string;
}

export interface AlerterStats {
  /** Messages sent (alerts and summaries), whatever their delivery result. */
  sent: number;
  deduplicated: number;
  rateLimited: number;
  rejected: number;
  /** Destination deliveries that failed after their retries. */
  failedDeliveries: number;
}

export interface Alerter {
  /** Reports an alert. Resolves when its message (if any) was delivered or given up on; never rejects. */
  notify(alert: Alert): Promise<NotifyOutcome>;
  /** Waits for every delivery in flight. */
  flush(): Promise<void>;
  stats(): AlerterStats;
  /** Sends the summaries of open windows, waits for deliveries, and stops all timers. */
  close(): Promise<void>;
}

interface Destination {
  name: string;
  url: string;
  headers: Record<string, string>;
  format: (message: AlertMessage) => Record<string, unknown>;
}

interface Window {
  last: NormalizedAlert;
  suppressed: number;
  timer: TimerHandle;
}

function checkUrl(field: string, value: unknown): string {
  // The value may be a secret: the message names the field, never the value.
  if (typeof value !== 'string') throw new ConfigError(`${field}: expected an http(s) URL string.`, { details: { field } });
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new ConfigError(`${field}: not a valid URL; expected http:// or https://.`, { cause: undefined, details: { field, reason: toError(cause).name } });
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${field}: expected an http:// or https:// URL.`, { details: { field } });
  }
  return value;
}

function checkPositiveInt(field: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigError(`${field}: expected a positive integer, got ${String(value)}.`, { details: { field, value } });
  }
  return value;
}

function resolveDestinations(options: AlerterOptions): Destination[] {
  const destinations: Destination[] = [];
  if (options.slack !== undefined) {
    destinations.push({ name: 'slack', url: checkUrl('slack.webhookUrl', options.slack.webhookUrl), headers: {}, format: formatSlackMessage });
  }
  (options.webhooks ?? []).forEach((hook, i) => {
    const headers = hook.headers ?? {};
    for (const [key, value] of Object.entries(headers)) {
      if (typeof value !== 'string') {
        throw new ConfigError(`webhooks[${i}].headers.${key}: expected a string value.`, { details: { field: `webhooks[${i}].headers` } });
      }
    }
    destinations.push({ name: hook.name ?? `webhook[${i}]`, url: checkUrl(`webhooks[${i}].url`, hook.url), headers, format: formatWebhookPayload });
  });
  return destinations;
}

/** Creates an alerter; throws ConfigError (naming the field, never echoing a URL) on bad options. */
export function createAlerter(options: AlerterOptions): Alerter {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const fixedBaseUrl = typeof options.baseUrl === 'function' ? null : checkUrl('baseUrl', options.baseUrl).replace(/\/+$/, '');
  const readBaseUrl = typeof options.baseUrl === 'function' ? options.baseUrl : null;
  const baseUrlNow = (): string => fixedBaseUrl ?? (readBaseUrl?.() ?? '').replace(/\/+$/, '');
  const dedupWindowMs = checkPositiveInt('dedupWindowMs', options.dedupWindowMs ?? 300_000);
  const rateMax = checkPositiveInt('rateLimit.max', options.rateLimit?.max ?? 30);
  const ratePerMs = checkPositiveInt('rateLimit.perMs', options.rateLimit?.perMs ?? 60_000);
  const retry: RetryPolicy = { ...DEFAULT_RETRY_POLICY, ...options.retry };
  checkPositiveInt('retry.attempts', retry.attempts);
  checkPositiveInt('retry.timeoutMs', retry.timeoutMs);
  if (!Number.isInteger(retry.baseDelayMs) || retry.baseDelayMs < 0) {
    throw new ConfigError('retry.baseDelayMs: expected a non-negative integer.', { details: { field: 'retry.baseDelayMs' } });
  }
  const destinations = resolveDestinations(options);
  const redact: Redactor = createRedactor([
    ...destinations.map((d) => d.url),
    ...destinations.flatMap((d) => Object.values(d.headers)),
    ...(options.secrets ?? []),
  ]);

  const windows = new Map<string, Window>();
  const sentAtMs: number[] = [];
  const inFlight = new Set<Promise<unknown>>();
  const shutdown = new AbortController();
  const counts: AlerterStats = { sent: 0, deduplicated: 0, rateLimited: 0, rejected: 0, failedDeliveries: 0 };
  let droppedSinceLastMessage = 0;
  let closed = false;

  function track<T>(work: Promise<T>): Promise<T> {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
    return work;
  }

  function allowedByRateLimit(): boolean {
    const now = clock.now();
    while (sentAtMs.length > 0 && (sentAtMs[0] ?? 0) <= now - ratePerMs) sentAtMs.shift();
    if (sentAtMs.length >= rateMax) return false;
    sentAtMs.push(now);
    return true;
  }

  async function deliver(message: AlertMessage): Promise<DestinationResult[]> {
    counts.sent += 1;
    return Promise.all(
      destinations.map(async (destination) => {
        const result = await postJson(destination.url, destination.format(message), {
          headers: destination.headers,
          retry,
          clock,
          stopRetries: shutdown.signal,
        });
        if (!result.ok) {
          counts.failedDeliveries += 1;
          logger.warn(
            { destination: destination.name, status: result.status, attempts: result.attempts, err: redact(result.error ?? '') },
            'alert delivery failed',
          );
        }
        return { destination: destination.name, ...result };
      }),
    );
  }

  /** Sends unless the rate limit says no; returns null when dropped. */
  function send(alert: NormalizedAlert, repeats: AlertMessage['repeats']): Promise<DestinationResult[]> | null {
    if (!allowedByRateLimit()) {
      counts.rateLimited += 1;
      droppedSinceLastMessage += 1;
      return null;
    }
    const message: AlertMessage = {
      alert,
      repeats,
      droppedByRateLimit: droppedSinceLastMessage,
      runUrl: alert.runId === null ? null : `${baseUrlNow()}/runs/${encodeURIComponent(alert.runId)}`,
    };
    droppedSinceLastMessage = 0;
    return track(deliver(message));
  }

  function closeWindow(fingerprint: string): void {
    const window = windows.get(fingerprint);
    if (window === undefined) return;
    if (window.suppressed === 0 || closed) {
      windows.delete(fingerprint);
      return;
    }
    const count = window.suppressed;
    window.suppressed = 0;
    window.timer = startTimer(fingerprint);
    void send(window.last, { count, windowMs: dedupWindowMs });
  }

  function startTimer(fingerprint: string): TimerHandle {
    const timer = clock.setTimer(() => closeWindow(fingerprint), dedupWindowMs);
    // An open window must not keep a process alive that is otherwise done.
    timer.unref?.();
    return timer;
  }

  return {
    async notify(alert) {
      if (closed) return { outcome: 'closed' };
      let normalized: NormalizedAlert;
      try {
        normalized = normalizeAlert(alert, clock.now(), redact);
      } catch (error) {
        counts.rejected += 1;
        const rejected =
          error instanceof InvalidParametersError
            ? error
            : new InvalidParametersError('alert: could not be read.', { cause: error, details: { field: '' } });
        logger.warn({ err: redact(rejected.message), code: rejected.code }, 'alert rejected');
        return { outcome: 'rejected', error: rejected };
      }
      const window = windows.get(normalized.fingerprint);
      if (window !== undefined) {
        window.suppressed += 1;
        window.last = normalized;
        counts.deduplicated += 1;
        return { outcome: 'deduplicated' };
      }
      windows.set(normalized.fingerprint, { last: normalized, suppressed: 0, timer: startTimer(normalized.fingerprint) });
      const sending = send(normalized, null);
      if (sending === null) return { outcome: 'rate_limited' };
      return { outcome: 'sent', deliveries: await sending };
    },

    async flush() {
      while (inFlight.size > 0) await Promise.all([...inFlight]);
    },

    stats: () => ({ ...counts }),

    async close() {
      if (closed) return;
      for (const [fingerprint, window] of windows) {
        clock.clearTimer(window.timer);
        if (window.suppressed > 0) void send(window.last, { count: window.suppressed, windowMs: dedupWindowMs });
        windows.delete(fingerprint);
      }
      closed = true;
      // Summaries get one attempt each (bounded by retry.timeoutMs); retries stop, so close() cannot
      // hang on a dead receiver.
      const pending = [...inFlight];
      shutdown.abort();
      await Promise.all(pending);
    },
  };
}
