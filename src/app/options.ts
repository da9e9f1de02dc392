import type { AlerterOptions } from '../alerts/alerter.js';
import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { AnyDefinition } from '../engine/runtime/engine.js';
import type { LocalSchedulerOptions } from '../local/types.js';
import type { KairosMetrics } from '../metrics/metrics.js';
import type { QueueProvider } from '../queue/contract.js';
import type { JobHandler } from '../queue/handlers.js';
import type { AuthOptions } from '../server/auth.js';
import type { Store } from '../store/store.js';
import { ConfigError } from '../errors.js';

/** The queue lane of a Kairos app. */
export interface KairosQueueOptions {
  /**
   * A provider name (`sqlite`, `postgres`, `redis`, `nats`, `rabbitmq`, `kafka`, `cloudtasks`) or a
   * provider you created (you then own it: Kairos does not close it). Default: the store's own
   * dialect (`sqlite` or `postgres`), so jobs live in the same store as everything else.
   */
  provider?: string | QueueProvider;
  /** Passed to the provider's factory with the store (`{ url }` for brokers, etc.). Default {}. */
  providerOptions?: Record<string, unknown>;
  /** Queues this app serves and shows. Default ['default']. */
  queues?: readonly string[];
  /** Run queue workers in this process. Default true. */
  workers?: boolean;
  /** Handlers running at once per queue. Default 4. */
  concurrency?: number;
  /** Lease per job (renewed every leaseMs / 3 while it runs). Default 30000. */
  leaseMs?: number;
  /** How long one fetch long-polls for work. Default 1000. */
  pollWaitMs?: number;
}

/** The flow/workflow engine of a Kairos app. */
export interface KairosEngineOptions {
  /** Execute runs in this process (otherwise only create them for workers elsewhere). Default true. */
  workers?: boolean;
  /** Runs executed at once. Default 10. */
  concurrency?: number;
  /** Run lease; a crashed worker's runs resume after it. Default 30000. */
  leaseMs?: number;
  /** How often an idle worker looks for runs. Default 1000. */
  pollIntervalMs?: number;
  /** Worker queues served. Default ['default']. */
  queues?: readonly string[];
}

/** The deployment scheduler (leader-elected on PostgreSQL, always the leader on SQLite). */
export interface KairosSchedulerOptions {
  /** Fire deployments from this process. Default true. */
  enabled?: boolean;
  /** How often a follower tries to lead. Default 1000. */
  leaderPollMs?: number;
  /** Longest sleep between looks at the store. Default 1000. */
  pollMs?: number;
}

/** The HTTP API (and UI) of a Kairos app. */
export interface KairosHttpOptions {
  /** Tokens and roles (see AuthOptions); anonymous access only with allowAnonymousLoopback on loopback. Required. */
  auth: AuthOptions;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** A built web UI to serve at `/` when it exists. Default: none. */
  uiDir?: string;
  /** Request log. Default: the app's logger. */
  logger?: Logger;
  /** SSE tuning: heartbeat and per-client buffer. Defaults 15000 ms and 1000 events. */
  eventStream?: { heartbeatMs?: number; maxBufferedEvents?: number };
}

export interface KairosOptions {
  /** A SQLite file path (':memory:' works), a postgres:// URL, or a store you opened (you then close it). Required. */
  store: string | Store;
  /** PostgreSQL schema when `store` is a URL. Default 'kairos'. */
  schema?: string;
  /** Flows and workflows to register. Default none (add with `register`). */
  definitions?: readonly AnyDefinition[];
  /** Queue job handlers by key. Default none (add with `handle`). */
  handlers?: Readonly<Record<string, JobHandler>>;
  queue?: KairosQueueOptions;
  engine?: KairosEngineOptions;
  scheduler?: KairosSchedulerOptions;
  /** The local lane's budget and defaults. Default: LocalScheduler's. */
  local?: Pick<LocalSchedulerOptions, 'budgetMs' | 'defaults' | 'eventLoopBlockMs'>;
  /** Metrics to report into. Default: a new createMetrics() registry, closed by stop(). */
  metrics?: KairosMetrics;
  /**
   * Slack / webhook alerts on failures, dead letters, missed schedules, misfits and threshold starts
   * (createAlerter's options). `baseUrl` (for run links) defaults to this app's own URL when `http` is
   * set, and is required otherwise. Default: no alerts.
   */
  alerts?: Omit<AlerterOptions, 'baseUrl'> & { baseUrl?: AlerterOptions['baseUrl'] };
  /** Serve the API (and the UI). Default: no HTTP server. */
  http?: KairosHttpOptions;
  /** Default systemClock. */
  clock?: Clock;
  /** Default silent. */
  logger?: Logger;
}

export function checkPositiveInt(field: string, value: number | undefined, fallback: number): number {
  const result = value ?? fallback;
  if (!Number.isInteger(result) || result <= 0) {
    throw new ConfigError(`${field}: expected a positive whole number, got ${String(value)}.`, { details: { field } });
  }
  return result;
}

export function checkQueueNames(field: string, names: readonly string[] | undefined, fallback: readonly string[]): string[] {
  const list = [...(names ?? fallback)];
  if (list.length === 0 || list.some((name) => typeof name !== 'string' || name.trim() === '' || name.length > 200)) {
    throw new ConfigError(`${field}: expected a non-empty list of queue names (non-empty strings of at most 200 characters).`, { details: { field } });
  }
  if (new Set(list).size !== list.length) throw new ConfigError(`${field}: a queue is listed twice.`, { details: { field } });
  return list;
}

/** Checks the option shape before anything is opened, so a bad option leaves nothing behind. */
export function checkOptions(options: KairosOptions): void {
  if (options === null || typeof options !== 'object') throw new ConfigError('createKairos: expected an options object with at least `store`.', { details: { field: 'options' } });
  const storeDialect = typeof options.store === 'object' && options.store !== null ? (options.store as { dialect?: unknown }).dialect : undefined;
  if (typeof options.store === 'string' ? options.store.trim() === '' : storeDialect !== 'sqlite' && storeDialect !== 'postgres') {
    throw new ConfigError("store: give a SQLite file path, a postgres:// URL, or an open store (openSqliteStore / openPostgresStore).", { details: { field: 'store' } });
  }
  checkQueueNames('queue.queues', options.queue?.queues, ['default']);
  checkQueueNames('engine.queues', options.engine?.queues, ['default']);
  checkPositiveInt('queue.concurrency', options.queue?.concurrency, 4);
  if (options.alerts !== undefined && options.alerts.baseUrl === undefined && options.http === undefined) {
    throw new ConfigError('alerts.baseUrl: required without `http` — the UI address that run links in alerts point to.', { details: { field: 'alerts.baseUrl' } });
  }
  if (options.http !== undefined && (typeof options.http.auth !== 'object' || options.http.auth === null)) {
    throw new ConfigError('http.auth: required — tokens, or allowAnonymousLoopback for local development.', { details: { field: 'http.auth' } });
  }
}

export const isPostgresUrl = (text: string): boolean => /^postgres(ql)?:\/\//.test(text);
