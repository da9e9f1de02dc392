import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { systemClock, type Clock } from '../../core/clock.js';
import type {
  DeadLetter,
  EnqueueResult,
  FetchOptions,
  HealthReport,
  Job,
  JobState,
  Lease,
  NewJob,
  ProviderCapabilities,
  QueueProvider,
  QueueStats,
} from '../contract.js';
import { bodyOf, fromBody, groupBy, toJob, type JobBody } from './broker/jobs.js';
import { closedError, connectWithRetries, redactAddress, type ConnectRetryOptions } from './broker/connect.js';
import { LuaScript } from './redis/lua.js';
import * as scripts from './redis/scripts.js';

/** Options of {@link createRedisProvider}. */
export interface RedisProviderOptions extends ConnectRetryOptions {
  /** Server URL, e.g. `redis://:password@127.0.0.1:6379/0`. Default `redis://127.0.0.1:6379`. Ignored when `redis` is given. */
  url?: string;
  /** Extra ioredis options merged over the URL (TLS, sentinels, username…). Default none. */
  redis?: RedisOptions;
  /** Prefix of every key this provider writes. Default `kairos`. */
  prefix?: string;
  /** Most jobs sent in one enqueue script call; larger batches are split. Default 500. */
  enqueueChunk?: number;
  /** Injected clock for run times and lease expiry. Default the system clock. */
  clock?: Clock;
}

const CAPABILITIES: ProviderCapabilities = {
  nativeDelay: true,
  priority: true,
  nativeDedup: true,
  inspect: true,
  ordering: 'fifo',
};

const SCRIPT = {
  enqueue: new LuaScript(scripts.ENQUEUE),
  fetch: new LuaScript(scripts.FETCH),
  ack: new LuaScript(scripts.ACK),
  retry: new LuaScript(scripts.RETRY),
  dead: new LuaScript(scripts.DEAD),
  extend: new LuaScript(scripts.EXTEND),
  replay: new LuaScript(scripts.REPLAY),
  purge: new LuaScript(scripts.PURGE),
  stats: new LuaScript(scripts.STATS),
  listWaiting: new LuaScript(scripts.LIST_WAITING),
} as const;

interface PendingAck {
  queue: string;
  id: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

const JOB_FIELDS = ['data', 'attempt', 'state', 'lastError', 'runAt', 'error', 'deadAt'] as const;

/**
 * A queue provider on Redis Streams with consumer groups (see `redis/scripts.ts` for the key layout).
 * Redis is a database as well as a transport, so job state lives in Redis and the provider answers
 * inspection (`getJob`, `listJobs`) and dead-letter listing natively. Every state change is one Lua
 * script; concurrent calls share round trips through ioredis auto-pipelining.
 *
 * Durability is Redis's: run it with `appendonly yes` (and `appendfsync always` if an acknowledged
 * enqueue must survive a crash of the Redis host; `everysec` may lose the last second).
 */
export function createRedisProvider(options: RedisProviderOptions = {}): QueueProvider {
  const url = options.url ?? 'redis://127.0.0.1:6379';
  const displayAddress = redactAddress(url);
  const prefix = options.prefix ?? 'kairos';
  const clock = options.clock ?? systemClock;
  const chunk = Math.max(1, options.enqueueChunk ?? 500);
  const consumer = `c-${randomUUID()}`;
  const clientOptions: RedisOptions = {
    lazyConnect: true,
    // Off: every hot path already sends one script per batch, and ioredis's auto-pipelining costs a
    // Pipeline object and a deferred write per call — 10–15 µs of a single enqueue's ~100 µs.
    enableAutoPipelining: false,
    maxRetriesPerRequest: 20,
    // After a successful start, reconnect forever with a capped back-off: a broker restart mid-run
    // must not kill the workers. Bounded retries apply only to the first connect.
    retryStrategy: (times) => Math.min(times * 100, 2_000),
    ...options.redis,
  };
  let client: Redis | null = null;
  let closed = false;
  /** Connections parked in a blocking XREAD for long-polls, reused between fetches. */
  const idleBlockers: Redis[] = [];
  const busyBlockers = new Set<Redis>();

  const base = (queue: string): string => `${prefix}:{${queue}}`;

  function live(): Redis {
    if (closed) throw closedError('redis');
    if (client === null) throw closedError('redis');
    return client;
  }

  function parseJob(data: string, attempt: number, lastError: string, runAtMs: number): Job {
    const body = JSON.parse(data) as JobBody;
    return fromBody(body, { attempt, lastError: lastError === '' ? null : lastError, runAtMs });
  }

  function leaseOf(queue: string, token: string, job: Job, leaseUntilMs: number): Lease {
    return { job: { ...job, queue }, token, leaseUntilMs };
  }

  async function fetchOnce(queue: string, max: number, leaseMs: number): Promise<{ leases: Lease[]; wakeMs: number; signalId: string }> {
    const now = clock.now();
    const raw = (await SCRIPT.fetch.run(live(), base(queue), [now, max, leaseMs, consumer])) as (string | number)[];
    const leases: Lease[] = [];
    for (let i = 2; i + 4 < raw.length + 1; i += 5) {
      const token = String(raw[i]);
      const job = parseJob(String(raw[i + 2]), Number(raw[i + 1]), String(raw[i + 3]), Number(raw[i + 4]));
      leases.push(leaseOf(queue, token, job, now + leaseMs));
    }
    return { leases, wakeMs: Number(raw[0]), signalId: String(raw[1]) };
  }

  // Acks of one event-loop turn go as one script call per queue: a script call per job was the
  // largest share of Redis's CPU at concurrency 32, and the slots freed together let the next fetch
  // lease several jobs in one call.
  let pendingAcks: PendingAck[] = [];
  let ackFlushScheduled = false;

  function flushAcks(client: Redis): void {
    ackFlushScheduled = false;
    const batch = pendingAcks;
    pendingAcks = [];
    for (const [queue, acks] of groupBy(batch, (a) => a.queue)) {
      SCRIPT.ack.run(client, base(queue), acks.map((a) => a.item.id)).then(
        () => acks.forEach((a) => a.item.resolve()),
        (error: unknown) => {
          const failure = error instanceof Error ? error : new Error(String(error));
          acks.forEach((a) => a.item.reject(failure));
        },
      );
    }
  }

  function newBlocker(main: Redis): Redis {
    const blocker = main.duplicate({ enableAutoPipelining: false, lazyConnect: false });
    // As on the main connection: without a listener ioredis prints every reconnect failure to the console.
    blocker.on('error', () => undefined);
    return blocker;
  }

  async function blockUntilSignal(queue: string, afterId: string, blockMs: number, signal?: AbortSignal): Promise<void> {
    const main = live();
    const blocker = idleBlockers.pop() ?? newBlocker(main);
    busyBlockers.add(blocker);
    const abort = (): void => blocker.disconnect();
    signal?.addEventListener('abort', abort, { once: true });
    let reusable = true;
    try {
      await blocker.xread('BLOCK', Math.max(1, Math.ceil(blockMs)), 'STREAMS', `${base(queue)}:signal`, afterId);
    } catch {
      // Aborted or disconnected: the caller re-checks and decides.
      reusable = false;
    } finally {
      signal?.removeEventListener('abort', abort);
      busyBlockers.delete(blocker);
      if (reusable && !closed && signal?.aborted !== true) idleBlockers.push(blocker);
      else blocker.disconnect();
    }
  }

  const provider: QueueProvider = {
    name: 'redis',
    capabilities: CAPABILITIES,

    async connect() {
      if (closed) throw closedError('redis');
      if (client !== null) return;
      client = await connectWithRetries('redis', displayAddress, options, async () => {
        const candidate = options.redis === undefined || options.url !== undefined ? new Redis(url, clientOptions) : new Redis(clientOptions);
        // Errors surface through rejected commands; an unhandled 'error' event would crash the process.
        candidate.on('error', () => undefined);
        try {
          await candidate.connect();
          await candidate.ping();
          return candidate;
        } catch (error) {
          candidate.disconnect();
          throw error;
        }
      });
    },

    async close() {
      if (closed) return;
      closed = true;
      for (const blocker of [...idleBlockers, ...busyBlockers]) blocker.disconnect();
      idleBlockers.length = 0;
      busyBlockers.clear();
      const current = client;
      client = null;
      if (current !== null) {
        await current.quit().catch(() => current.disconnect());
      }
    },

    async ensureQueue(queue) {
      // The default-priority stream and its group; other priorities get theirs on first enqueue.
      const redis = live();
      const key = `${base(queue)}:s:0`;
      await redis.zadd(`${base(queue)}:prios`, 'NX', 0, '0');
      try {
        await redis.xgroup('CREATE', key, 'kairos', '0', 'MKSTREAM');
      } catch (error) {
        if (!(error instanceof Error && error.message.includes('BUSYGROUP'))) throw error;
      }
    },

    async enqueue(newJobs) {
      const redis = live();
      const now = clock.now();
      const jobs = newJobs.map((j: NewJob) => toJob(j, now));
      const results: EnqueueResult[] = new Array<EnqueueResult>(jobs.length);
      const calls: Promise<void>[] = [];
      for (const [queue, group] of groupBy(jobs, (j) => j.queue)) {
        for (let start = 0; start < group.length; start += chunk) {
          const slice = group.slice(start, start + chunk);
          const args: (string | number)[] = [now];
          for (const { item } of slice) {
            args.push(item.id, item.priority, item.runAtMs, item.dedupKey ?? '', JSON.stringify(bodyOf(item)), item.attempt, item.lastError ?? '');
          }
          calls.push(
            SCRIPT.enqueue.run(redis, base(queue), args).then((raw) => {
              const out = raw as (string | number)[];
              slice.forEach(({ index }, k) => {
                results[index] = { id: String(out[k * 2]), deduplicated: Number(out[k * 2 + 1]) === 1 };
              });
            }),
          );
        }
      }
      await Promise.all(calls);
      return results;
    },

    async fetch(queue, fetchOptions: FetchOptions) {
      const deadline = clock.now() + Math.max(0, fetchOptions.waitMs);
      for (;;) {
        if (fetchOptions.signal?.aborted === true) return [];
        const { leases, wakeMs, signalId } = await fetchOnce(queue, fetchOptions.max, fetchOptions.leaseMs);
        const now = clock.now();
        if (leases.length > 0 || now >= deadline || fetchOptions.max <= 0) return leases;
        // Sleep until something is enqueued, a delayed job falls due, a lease expires, or the wait ends.
        const untilMs = wakeMs >= 0 ? Math.min(deadline, wakeMs) : deadline;
        await blockUntilSignal(queue, signalId, Math.max(1, untilMs - now), fetchOptions.signal);
      }
    },

    ack(lease) {
      let client: Redis;
      try {
        client = live();
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      return new Promise<void>((resolve, reject) => {
        pendingAcks.push({ queue: lease.job.queue, id: lease.job.id, resolve, reject });
        if (!ackFlushScheduled) {
          ackFlushScheduled = true;
          setImmediate(() => flushAcks(client));
        }
      });
    },

    async retry(lease, retryOptions) {
      await SCRIPT.retry.run(live(), base(lease.job.queue), [
        lease.job.id,
        lease.token,
        clock.now(),
        retryOptions.runAtMs,
        retryOptions.error,
      ]);
    },

    async deadLetter(lease, error) {
      await SCRIPT.dead.run(live(), base(lease.job.queue), [lease.job.id, lease.token, clock.now(), error]);
    },

    async extendLease(lease, leaseMs) {
      const ok = await SCRIPT.extend.run(live(), base(lease.job.queue), [lease.job.id, lease.token, clock.now() + leaseMs]);
      return Number(ok) === 1;
    },

    async listDeadLetters(queue, page = {}) {
      const ids = await live().zrange(`${base(queue)}:dead`, page.offset ?? 0, (page.offset ?? 0) + (page.limit ?? 100) - 1);
      const letters = await Promise.all(ids.map((id) => readDead(queue, id)));
      return letters.filter((l): l is DeadLetter => l !== null);
    },

    async getDeadLetter(queue, jobId) {
      return readDead(queue, jobId);
    },

    async replayDeadLetters(queue, ids) {
      return Number(await SCRIPT.replay.run(live(), base(queue), [clock.now(), ...(ids ?? [])]));
    },

    async purgeDeadLetters(queue, ids) {
      if (ids !== undefined && ids.length === 0) return 0;
      return Number(await SCRIPT.purge.run(live(), base(queue), [...(ids ?? [])]));
    },

    async stats(queue): Promise<QueueStats> {
      const raw = (await SCRIPT.stats.run(live(), base(queue), [])) as number[];
      const age = Number(raw[4]);
      return {
        queue,
        waiting: Number(raw[0]),
        active: Number(raw[1]),
        delayed: Number(raw[2]),
        dead: Number(raw[3]),
        oldestWaitingAgeMs: age < 0 ? null : age,
      };
    },

    async health(): Promise<HealthReport> {
      const started = performance.now();
      try {
        await live().ping();
        return { ok: true, latencyMs: performance.now() - started };
      } catch (error) {
        return { ok: false, latencyMs: performance.now() - started, error: error instanceof Error ? error.message : String(error) };
      }
    },

    async getJob(queue, jobId) {
      const row = await readJob(queue, jobId);
      return row === null ? null : { ...row.job, state: row.state };
    },

    async listJobs(queue, state: JobState, page = {}) {
      const offset = page.offset ?? 0;
      const limit = page.limit ?? 100;
      const redis = live();
      let ids: string[];
      if (state === 'waiting') {
        ids = (await SCRIPT.listWaiting.run(redis, base(queue), [offset, limit])) as string[];
      } else {
        const set = state === 'active' ? 'active' : state === 'delayed' ? 'delayed' : 'dead';
        ids = await redis.zrange(`${base(queue)}:${set}`, offset, offset + limit - 1);
      }
      const rows = await Promise.all(ids.map((id) => readJob(queue, id)));
      return rows.filter((r): r is { job: Job; state: JobState; error: string; deadAtMs: number } => r !== null).map((r) => r.job);
    },
  };

  async function readJob(queue: string, jobId: string): Promise<{ job: Job; state: JobState; error: string; deadAtMs: number } | null> {
    const values = await live().hmget(`${base(queue)}:job:${jobId}`, ...JOB_FIELDS);
    const [data, attempt, state, lastError, runAt, error, deadAt] = values;
    if (data === null || data === undefined) return null;
    return {
      job: parseJob(data, Number(attempt ?? 0), lastError ?? '', Number(runAt ?? 0)),
      state: (state ?? 'waiting') as JobState,
      error: error ?? '',
      deadAtMs: Number(deadAt ?? 0),
    };
  }

  async function readDead(queue: string, jobId: string): Promise<DeadLetter | null> {
    const row = await readJob(queue, jobId);
    if (row === null || row.state !== 'dead') return null;
    return { job: row.job, error: row.error, deadAtMs: row.deadAtMs };
  }

  return provider;
}
