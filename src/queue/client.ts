/**
 * The producer side of the queue lane: validate, then enqueue on the right provider.
 *
 * Everything a caller can get wrong is checked before anything is sent — the provider name, every
 * option, the payload's serialisability and size — so a failed call enqueues nothing, even in a batch.
 * Jobs due later go to the provider directly when it can delay them, and otherwise into the Kairos
 * store's held jobs, which a DelayDispatcher hands over when due.
 *
 * Two surfaces over one path: the seed's `enqueueWorkflow(key, { queueProvider, context, metadata:
 * { scheduleTime } })`, and `queue(name).add(key, payload, opts)` / `.addBulk([...])`.
 */
import type { Clock } from '../core/clock.js';
import { systemClock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import { silentLogger } from '../core/logger.js';
import { ConfigError, InvalidDateError, UnknownProviderError } from '../errors.js';
import type { Store } from '../store/store.js';
import { checkBackoff } from './backoff.js';
import {
  DEFAULT_MAX_PAYLOAD_BYTES,
  PROVIDER_NAMES,
  type BackoffPolicy,
  type EnqueueResult,
  type HeldJobStore,
  type Job,
  type NewJob,
  type ProviderName,
  type QueueProvider,
  type QueueStats,
} from './contract.js';
import { DelayDispatcher } from './delay-dispatcher.js';
import { createHeldJobStore } from './held/index.js';
import { checkPayload } from './payload.js';
import { toJobRow } from './providers/job-row.js';

export interface JobOptions {
  /** Higher runs first (-100..100). Default 0. */
  priority?: number;
  /** A second job with this key while the first is live returns the first. Default none. */
  dedupKey?: string;
  /** Caller-chosen job id (enqueueing it twice makes one job). Default a random UUID. */
  id?: string;
  /** Run this long from now. Default 0. Not with `runAt`. */
  delayMs?: number;
  /** Run at this instant (Date, ISO string or epoch ms). Default now. Not with `delayMs`. */
  runAt?: Date | string | number;
  /** Attempts before the job is dead-lettered. Default 3. */
  maxAttempts?: number;
  /** Wait between attempts. Default: the worker's (exponential from 1 s). */
  backoff?: BackoffPolicy;
  /** The handler's signal aborts after this long. Default none. */
  timeoutMs?: number;
  /** Carried with the job. Default {}. */
  metadata?: Record<string, unknown>;
}

export interface QueueClientOptions {
  /** The providers this client may enqueue on (one per name). */
  providers: QueueProvider | readonly QueueProvider[];
  /** Provider for `queue(name)` when none is named. Default: the first in `providers`. */
  defaultProvider?: ProviderName;
  /** Queue for `enqueueWorkflow` when none is named. Default 'default'. */
  defaultQueue?: string;
  /** The Kairos store, to hold delayed jobs for providers that cannot delay. Default none. */
  store?: Store;
  /** Explicit held-job stores by provider (overrides `store`). Default none. */
  heldJobs?: Partial<Record<ProviderName, HeldJobStore>>;
  /** Hand held jobs over from this process too (workers do it as well). Default true. */
  dispatchHeldJobs?: boolean;
  /** Largest payload, in bytes of JSON. Default DEFAULT_MAX_PAYLOAD_BYTES (1 MiB). */
  maxPayloadBytes?: number;
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: silent. */
  logger?: Logger;
}

/** The seed's `enqueue_workflow` options. */
export interface EnqueueWorkflowOptions extends Omit<JobOptions, 'runAt'> {
  /** 'cloudtasks' | 'redis' | 'nats' | 'kafka' | 'rabbitmq' | 'sqlite' | 'postgres'. Default: the client's default provider. */
  queueProvider?: string;
  /** The handler's input. Default {}. */
  context?: unknown;
  /** `scheduleTime` (ISO 8601 or Date) delays the run; everything else is carried as job metadata. */
  metadata?: { scheduleTime?: string | Date; [key: string]: unknown };
  /** Queue name. Default: the client's default queue. */
  queue?: string;
}

/** What `enqueueWorkflow` returns, as in the seed. */
export interface EnqueueWorkflowResult {
  workflow: string;
  /** The job id. */
  runId: string;
  /** `<queue>/<job id>`: the name the job has on its provider. */
  taskName: string;
  queueProvider: ProviderName;
  /** ISO 8601 instant the job was accepted. */
  queuedAt: string;
  /** ISO 8601 instant the job is due. */
  scheduledFor: string;
  /** True when an existing job with the same id or dedup key was returned. */
  deduplicated: boolean;
}

export interface AddResult extends EnqueueResult {
  /** True when the job waits in the Kairos store until due (the provider cannot delay). */
  held: boolean;
}

export interface BulkJob {
  name: string;
  payload?: unknown;
  options?: JobOptions;
}

export interface QueueHandle {
  readonly name: string;
  readonly provider: QueueProvider;
  add(key: string, payload?: unknown, options?: JobOptions): Promise<AddResult>;
  addBulk(jobs: readonly BulkJob[]): Promise<AddResult[]>;
  stats(): Promise<QueueStats>;
}

export interface QueueClient {
  enqueueWorkflow(workflowKey: string, options?: EnqueueWorkflowOptions): Promise<EnqueueWorkflowResult>;
  queue(name: string, options?: { provider?: string }): QueueHandle;
  provider(name?: string): QueueProvider;
  /** Stops this client's delay dispatchers. Providers and the store stay open: the caller owns them. */
  close(): Promise<void>;
}

/** Parses Date / ISO string / epoch ms into epoch ms, naming `field` when it cannot. */
export function toEpochMs(value: Date | string | number, field: string): number {
  const ms = value instanceof Date ? value.getTime() : typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new InvalidDateError(`${field} is not a valid instant: use an ISO 8601 string like '2026-02-07T02:00:00Z', a Date or epoch milliseconds.`, {
      details: { field, value: String(value) },
    });
  }
  return ms;
}

export function createQueueClient(options: QueueClientOptions): QueueClient {
  const clock = options.clock ?? systemClock;
  const logger = options.logger ?? silentLogger;
  const maxPayloadBytes = options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (!Number.isInteger(maxPayloadBytes) || maxPayloadBytes < 1) {
    throw new ConfigError('maxPayloadBytes must be a whole number of bytes ≥ 1.', { details: { field: 'maxPayloadBytes', value: maxPayloadBytes } });
  }
  const defaultQueue = options.defaultQueue ?? 'default';
  const list = Array.isArray(options.providers) ? (options.providers as readonly QueueProvider[]) : [options.providers as QueueProvider];
  if (list.length === 0) throw new ConfigError('A queue client needs at least one provider.', { details: { field: 'providers' } });
  const providers = new Map<ProviderName, QueueProvider>();
  for (const provider of list) {
    if (providers.has(provider.name)) {
      throw new ConfigError(`Two '${provider.name}' providers were given: pass one per name.`, { details: { field: 'providers' } });
    }
    providers.set(provider.name, provider);
  }
  const defaultProviderName = options.defaultProvider ?? list[0]!.name;
  const heldStores = new Map<ProviderName, HeldJobStore>();
  const dispatchers = new Map<ProviderName, DelayDispatcher>();

  function providerFor(name: string | undefined): QueueProvider {
    const wanted = name ?? defaultProviderName;
    if (!(PROVIDER_NAMES as readonly string[]).includes(wanted)) {
      throw new UnknownProviderError(`Unknown queue provider '${wanted}': use one of ${PROVIDER_NAMES.join(', ')}.`, {
        details: { field: 'queueProvider', value: wanted, valid: [...PROVIDER_NAMES] },
      });
    }
    const provider = providers.get(wanted as ProviderName);
    if (provider === undefined) {
      throw new ConfigError(
        `The queue provider '${wanted}' is not configured in this client (configured: ${[...providers.keys()].join(', ')}). Pass it in 'providers'.`,
        { details: { field: 'queueProvider', value: wanted } },
      );
    }
    return provider;
  }

  function heldStoreFor(provider: QueueProvider): HeldJobStore {
    let held = options.heldJobs?.[provider.name] ?? heldStores.get(provider.name);
    if (held === undefined) {
      if (options.store === undefined) {
        throw new ConfigError(
          `The ${provider.name} provider cannot delay jobs and this client has no store to hold them: pass 'store' (the Kairos store) or 'heldJobs'.`,
          { details: { field: 'store', provider: provider.name } },
        );
      }
      held = createHeldJobStore(options.store, { provider: provider.name, clock });
      heldStores.set(provider.name, held);
    }
    return held;
  }

  function dispatcherFor(provider: QueueProvider, held: HeldJobStore): DelayDispatcher | null {
    if (options.dispatchHeldJobs === false) return null;
    let dispatcher = dispatchers.get(provider.name);
    if (dispatcher === undefined) {
      dispatcher = new DelayDispatcher({ heldJobs: held, provider, clock, logger });
      dispatchers.set(provider.name, dispatcher);
      dispatcher.start();
    }
    return dispatcher;
  }

  /** Builds a NewJob from a key, a payload and options, checking everything; throws before any I/O. */
  function prepare(queue: string, key: string, payload: unknown, jobOptions: JobOptions, payloadField: string, nowMs: number): NewJob {
    if (typeof key !== 'string' || key.length === 0) throw new ConfigError('The job key (handler name) must be a non-empty string.', { details: { field: 'key', value: key } });
    checkPayload(payload, { field: payloadField, maxBytes: maxPayloadBytes });
    if (jobOptions.metadata !== undefined) checkPayload(jobOptions.metadata, { field: 'metadata', maxBytes: maxPayloadBytes });
    if (jobOptions.delayMs !== undefined && jobOptions.runAt !== undefined) {
      throw new ConfigError("Give either 'delayMs' or 'runAt', not both.", { details: { field: 'delayMs' } });
    }
    if (jobOptions.delayMs !== undefined && (!Number.isFinite(jobOptions.delayMs) || jobOptions.delayMs < 0)) {
      throw new ConfigError('delayMs must be a number of milliseconds ≥ 0.', { details: { field: 'delayMs', value: jobOptions.delayMs } });
    }
    const runAtMs = jobOptions.runAt !== undefined ? toEpochMs(jobOptions.runAt, 'runAt') : nowMs + (jobOptions.delayMs ?? 0);
    const job: NewJob = {
      queue,
      name: key,
      payload: payload ?? null,
      runAtMs,
      ...(jobOptions.id === undefined ? {} : { id: jobOptions.id }),
      ...(jobOptions.dedupKey === undefined ? {} : { dedupKey: jobOptions.dedupKey }),
      ...(jobOptions.priority === undefined ? {} : { priority: jobOptions.priority }),
      ...(jobOptions.maxAttempts === undefined ? {} : { maxAttempts: jobOptions.maxAttempts }),
      ...(jobOptions.backoff === undefined ? {} : { backoff: checkBackoff(jobOptions.backoff) }),
      ...(jobOptions.timeoutMs === undefined ? {} : { timeoutMs: jobOptions.timeoutMs }),
      ...(jobOptions.metadata === undefined ? {} : { metadata: jobOptions.metadata }),
    };
    toJobRow(job, nowMs); // field checks (queue, priority range, attempts…): same rules as the stores
    return job;
  }

  async function send(provider: QueueProvider, jobs: readonly NewJob[], nowMs: number): Promise<AddResult[]> {
    const needsHolding = (job: NewJob) => !provider.capabilities.nativeDelay && (job.runAtMs ?? nowMs) > nowMs;
    const held = jobs.some(needsHolding) ? heldStoreFor(provider) : null; // may throw: still nothing sent
    const direct = jobs.filter((job) => !needsHolding(job));
    const directResults = direct.length > 0 ? await provider.enqueue(direct) : [];
    const results: AddResult[] = [];
    let d = 0;
    for (const job of jobs) {
      if (!needsHolding(job)) {
        results.push({ ...directResults[d++]!, held: false });
        continue;
      }
      const row = toJobRow(job, nowMs);
      const heldJob: Job = {
        id: row.id,
        queue: row.queue,
        name: row.name,
        payload: job.payload,
        dedupKey: row.dedup_key,
        priority: row.priority,
        runAtMs: row.run_at_ms,
        attempt: 0,
        maxAttempts: row.max_attempts,
        backoff: job.backoff ?? null,
        timeoutMs: row.timeout_ms,
        metadata: job.metadata ?? {},
        createdAtMs: nowMs,
        lastError: null,
      };
      await held!.hold(heldJob);
      dispatcherFor(provider, held!)?.notifyHeld(heldJob.runAtMs);
      results.push({ id: heldJob.id, deduplicated: false, held: true });
    }
    return results;
  }

  function queueHandle(name: string, providerName?: string): QueueHandle {
    const provider = providerFor(providerName);
    return {
      name,
      provider,
      async add(key, payload, jobOptions = {}) {
        const nowMs = clock.now();
        const job = prepare(name, key, payload, jobOptions, 'payload', nowMs);
        const [result] = await send(provider, [job], nowMs);
        return result!;
      },
      async addBulk(jobs) {
        const nowMs = clock.now();
        const prepared = jobs.map((job, i) => prepare(name, job.name, job.payload, job.options ?? {}, `jobs[${i}].payload`, nowMs));
        return send(provider, prepared, nowMs);
      },
      stats: () => provider.stats(name),
    };
  }

  return {
    async enqueueWorkflow(workflowKey, workflowOptions = {}) {
      const provider = providerFor(workflowOptions.queueProvider);
      const { scheduleTime, ...metadata } = workflowOptions.metadata ?? {};
      const nowMs = clock.now();
      const runAtMs = scheduleTime === undefined ? undefined : toEpochMs(scheduleTime, 'metadata.scheduleTime');
      const queue = workflowOptions.queue ?? defaultQueue;
      const { queueProvider: _p, context, metadata: _m, queue: _q, ...jobOptions } = workflowOptions;
      const job = prepare(
        queue,
        workflowKey,
        context ?? {},
        {
          ...jobOptions,
          ...(runAtMs === undefined ? {} : { runAt: runAtMs }),
          metadata: { ...metadata, ...(scheduleTime === undefined ? {} : { scheduleTime: new Date(runAtMs!).toISOString() }) },
        },
        'context',
        nowMs,
      );
      const [result] = await send(provider, [job], nowMs);
      return {
        workflow: workflowKey,
        runId: result!.id,
        taskName: `${queue}/${result!.id}`,
        queueProvider: provider.name,
        queuedAt: new Date(nowMs).toISOString(),
        scheduledFor: new Date(job.runAtMs ?? nowMs).toISOString(),
        deduplicated: result!.deduplicated,
      };
    },
    queue: (name, queueOptions) => queueHandle(name, queueOptions?.provider),
    provider: (name) => providerFor(name),
    async close() {
      await Promise.all([...dispatchers.values()].map((d) => d.stop()));
      dispatchers.clear();
    },
  };
}
