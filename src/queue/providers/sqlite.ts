/**
 * The `sqlite` queue provider: jobs live in the `queue_jobs` table of the embedded Kairos store.
 *
 * Claiming is one `UPDATE … WHERE seq IN (SELECT … ORDER BY priority, run time, seq LIMIT n)
 * RETURNING *` inside `BEGIN IMMEDIATE`, so two processes sharing the file never claim one job twice
 * (SQLite has one writer at a time; the immediate transaction takes the write lock before reading).
 * A lease is `lease_until_ms` plus a random `lease_token`; ack / retry / dead-letter / extend only
 * touch the row while the token still matches, so a worker whose lease was reclaimed cannot complete
 * someone else's delivery. Expired leases are turned back into waiting jobs on fetch (at most every
 * `reclaimIntervalMs`); a job whose final attempt stalled goes to the dead letters instead, so a job
 * that kills its worker cannot loop forever.
 *
 * Long-poll: an enqueue in this process wakes waiting fetches at once; enqueues from other processes
 * on the same file are seen by a short poll (`pollIntervalMs`).
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { ProviderUnavailableError } from '../../errors.js';
import type { SqliteStore } from '../../store/store.js';
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
import { compareDelivery, deadAtMs, rowState, rowToJob, toJobRow, toMs, type JobRow } from './job-row.js';
import { WakeUps } from './long-poll.js';

interface PendingAck {
  lease: Lease;
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface SqliteProviderOptions {
  /** The Kairos store whose `queue_jobs` table holds the jobs (migration 002). The caller closes it. */
  store: SqliteStore;
  /** How often a waiting fetch re-reads the table, to see jobs enqueued by other processes. Default 200. */
  pollIntervalMs?: number;
  /** How often fetch returns expired leases to the queue. Default 1000. */
  reclaimIntervalMs?: number;
  /** Default: the system clock. */
  clock?: Clock;
}

export const SQLITE_CAPABILITIES: ProviderCapabilities = {
  nativeDelay: true,
  priority: true,
  nativeDedup: true,
  inspect: true,
  ordering: 'fifo',
};

// One wake-up channel per database connection, so that every provider on one store (the client's and
// the worker's, in `kairos dev`) wakes the others. Keyed weakly: it goes away with the connection.
const wakeUpsByDb = new WeakMap<Database.Database, WakeUps>();
function wakeUpsFor(db: Database.Database): WakeUps {
  let wakeUps = wakeUpsByDb.get(db);
  if (wakeUps === undefined) {
    wakeUps = new WakeUps();
    wakeUpsByDb.set(db, wakeUps);
  }
  return wakeUps;
}

const INSERT_COLUMNS =
  'queue, id, name, payload, dedup_key, priority, run_at_ms, attempt, max_attempts, backoff, timeout_ms, metadata, created_at_ms, last_error';

/** Creates the SQLite queue provider. Nothing is opened here: the store is already open. */
export function createSqliteProvider(options: SqliteProviderOptions): QueueProvider {
  const { db } = options.store;
  const clock = options.clock ?? systemClock;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const reclaimIntervalMs = options.reclaimIntervalMs ?? 1_000;
  const wakeUps = wakeUpsFor(db);
  const lastReclaimMs = new Map<string, number>();
  const pendingFetches = new Set<AbortController>();
  let closed = false;

  const sql = {
    insert: db.prepare(
      `INSERT OR IGNORE INTO queue_jobs (${INSERT_COLUMNS}) VALUES (@queue, @id, @name, @payload, @dedup_key, @priority, @run_at_ms, @attempt, @max_attempts, @backoff, @timeout_ms, @metadata, @created_at_ms, @last_error)`,
    ),
    existing: db.prepare(
      `SELECT id FROM queue_jobs WHERE queue = ? AND (id = ? OR (dedup_key = ? AND state <> 'dead')) LIMIT 1`,
    ),
    claim: db.prepare(
      `UPDATE queue_jobs SET state = 'active', attempt = attempt + 1, lease_token = @token, lease_until_ms = @until
       WHERE seq IN (SELECT seq FROM queue_jobs WHERE queue = @queue AND state = 'waiting' AND run_at_ms <= @now
                     ORDER BY priority DESC, run_at_ms, seq LIMIT @max)
       RETURNING *`,
    ),
    reclaim: db.prepare(
      `UPDATE queue_jobs SET
         state = CASE WHEN attempt >= max_attempts THEN 'dead' ELSE 'waiting' END,
         dead_at_ms = CASE WHEN attempt >= max_attempts THEN @now ELSE NULL END,
         last_error = CASE WHEN attempt >= max_attempts
           THEN 'lease expired on the final attempt: the worker died or stalled' ELSE last_error END,
         lease_token = NULL, lease_until_ms = NULL
       WHERE queue = @queue AND state = 'active' AND lease_until_ms <= @now`,
    ),
    ack: db.prepare(`DELETE FROM queue_jobs WHERE queue = ? AND id = ? AND lease_token = ?`),
    retry: db.prepare(
      `UPDATE queue_jobs SET state = 'waiting', run_at_ms = @runAt, last_error = @error, lease_token = NULL, lease_until_ms = NULL
       WHERE queue = @queue AND id = @id AND lease_token = @token`,
    ),
    deadLetter: db.prepare(
      `UPDATE queue_jobs SET state = 'dead', dead_at_ms = @now, last_error = @error, lease_token = NULL, lease_until_ms = NULL
       WHERE queue = @queue AND id = @id AND lease_token = @token`,
    ),
    extend: db.prepare(
      `UPDATE queue_jobs SET lease_until_ms = @until WHERE queue = @queue AND id = @id AND lease_token = @token AND state = 'active'`,
    ),
    listDead: db.prepare(`SELECT * FROM queue_jobs WHERE queue = ? AND state = 'dead' ORDER BY dead_at_ms, seq LIMIT ? OFFSET ?`),
    getDead: db.prepare(`SELECT * FROM queue_jobs WHERE queue = ? AND id = ? AND state = 'dead'`),
    deadIds: db.prepare(`SELECT id, dedup_key FROM queue_jobs WHERE queue = ? AND state = 'dead' ORDER BY dead_at_ms, seq`),
    liveDedup: db.prepare(`SELECT 1 FROM queue_jobs WHERE queue = ? AND dedup_key = ? AND state <> 'dead' LIMIT 1`),
    replayOne: db.prepare(
      `UPDATE queue_jobs SET state = 'waiting', attempt = 0, run_at_ms = @now, dead_at_ms = NULL, dedup_key = @dedupKey
       WHERE queue = @queue AND id = @id AND state = 'dead'`,
    ),
    purgeAll: db.prepare(`DELETE FROM queue_jobs WHERE queue = ? AND state = 'dead'`),
    purgeOne: db.prepare(`DELETE FROM queue_jobs WHERE queue = ? AND id = ? AND state = 'dead'`),
    stats: db.prepare(
      `SELECT
         COALESCE(SUM(state = 'waiting' AND run_at_ms <= @now), 0) AS waiting,
         COALESCE(SUM(state = 'waiting' AND run_at_ms > @now), 0) AS delayed,
         COALESCE(SUM(state = 'active'), 0) AS active,
         COALESCE(SUM(state = 'dead'), 0) AS dead,
         MIN(CASE WHEN state = 'waiting' AND run_at_ms <= @now THEN run_at_ms END) AS oldest
       FROM queue_jobs WHERE queue = @queue`,
    ),
    getJob: db.prepare(`SELECT * FROM queue_jobs WHERE queue = ? AND id = ?`),
    listWaiting: db.prepare(
      `SELECT * FROM queue_jobs WHERE queue = ? AND state = 'waiting' AND run_at_ms <= ? ORDER BY priority DESC, run_at_ms, seq LIMIT ? OFFSET ?`,
    ),
    listDelayed: db.prepare(
      `SELECT * FROM queue_jobs WHERE queue = ? AND state = 'waiting' AND run_at_ms > ? ORDER BY run_at_ms, seq LIMIT ? OFFSET ?`,
    ),
    listActive: db.prepare(`SELECT * FROM queue_jobs WHERE queue = ? AND state = 'active' ORDER BY lease_until_ms, seq LIMIT ? OFFSET ?`),
  };

  const enqueueTx = db.transaction((jobs: readonly NewJob[], nowMs: number): EnqueueResult[] => {
    const results: EnqueueResult[] = [];
    for (const job of jobs) {
      const row = toJobRow(job, nowMs);
      if (sql.insert.run(row).changes === 1) {
        results.push({ id: row.id, deduplicated: false });
        continue;
      }
      const existing = sql.existing.get(row.queue, row.id, row.dedup_key) as { id: string } | undefined;
      // OR IGNORE also swallows NOT NULL / CHECK failures; toJobRow rules those out, so a miss here is a bug.
      if (existing === undefined) throw new Error(`queue_jobs insert of ${row.id} was ignored without a conflicting row`);
      results.push({ id: existing.id, deduplicated: true });
    }
    return results;
  });

  const claimTx = db.transaction((queue: string, max: number, leaseMs: number): JobRow[] => {
    const nowMs = clock.now();
    if (nowMs - (lastReclaimMs.get(queue) ?? 0) >= reclaimIntervalMs) {
      lastReclaimMs.set(queue, nowMs);
      sql.reclaim.run({ queue, now: nowMs });
    }
    const rows = sql.claim.all({ queue, now: nowMs, max, token: randomUUID(), until: nowMs + leaseMs }) as JobRow[];
    return rows.sort(compareDelivery);
  });

  const replayTx = db.transaction((queue: string, ids: readonly string[] | undefined): number => {
    const nowMs = clock.now();
    const candidates = sql.deadIds.all(queue) as { id: string; dedup_key: string | null }[];
    const wanted = ids === undefined ? undefined : new Set(ids);
    let count = 0;
    for (const dead of candidates) {
      if (wanted !== undefined && !wanted.has(dead.id)) continue;
      // A live job took the dedup key meanwhile: the replayed job runs anyway, without the key.
      const keepKey = dead.dedup_key !== null && sql.liveDedup.get(queue, dead.dedup_key) === undefined;
      count += sql.replayOne.run({ queue, id: dead.id, now: nowMs, dedupKey: keepKey ? dead.dedup_key : null }).changes;
    }
    return count;
  });

  const purgeTx = db.transaction((queue: string, ids: readonly string[] | undefined): number => {
    if (ids === undefined) return sql.purgeAll.run(queue).changes;
    let count = 0;
    for (const id of ids) count += sql.purgeOne.run(queue, id).changes;
    return count;
  });

  /** Runs a synchronous operation as a promise, so a closed provider or a SQL error rejects instead of throwing. */
  function run<T>(operation: () => T): Promise<T> {
    try {
      ensureOpen();
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  // Acks from concurrent handlers are coalesced: those of one event-loop turn are one transaction.
  // One commit per ack contended with the claims at high concurrency (32 ran slower than 8); the freed
  // slots also come back together, so the next claim takes several jobs in one transaction.
  let pendingAcks: PendingAck[] = [];
  let ackFlushScheduled = false;
  const ackTx = db.transaction((batch: readonly PendingAck[]) => {
    for (const { lease } of batch) sql.ack.run(lease.job.queue, lease.job.id, lease.token);
  });

  function flushAcks(): void {
    ackFlushScheduled = false;
    const batch = pendingAcks;
    pendingAcks = [];
    if (batch.length === 0) return;
    try {
      // Acks taken before close still complete: the store outlives the provider.
      ackTx.immediate(batch);
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      for (const ack of batch) ack.reject(failure);
      return;
    }
    for (const ack of batch) ack.resolve();
  }

  function ensureOpen(): void {
    if (closed) {
      throw new ProviderUnavailableError('The sqlite queue provider is closed: create a new one to keep using the queue.', {
        details: { provider: 'sqlite', reason: 'closed' },
      });
    }
  }

  function toLeases(rows: readonly JobRow[]): Lease[] {
    return rows.map((row) => ({ job: rowToJob(row), token: row.lease_token ?? '', leaseUntilMs: toMs(row.lease_until_ms ?? 0) }));
  }

  function toDeadLetter(row: JobRow): DeadLetter {
    return { job: rowToJob(row), error: row.last_error ?? '', deadAtMs: deadAtMs(row) };
  }

  const provider: QueueProvider = {
    name: 'sqlite',
    capabilities: SQLITE_CAPABILITIES,

    connect: () => run(() => undefined),

    close: () => {
      if (!closed) {
        closed = true;
        for (const controller of pendingFetches) controller.abort();
      }
      return Promise.resolve();
    },

    ensureQueue: (queue) =>
      run(() => {
        toJobRow({ queue, name: 'ensureQueue', payload: null }, 0);
      }),

    enqueue: (jobs) =>
      run(() => {
        if (jobs.length === 0) return [];
        const results = enqueueTx.immediate(jobs, clock.now());
        for (const queue of new Set(jobs.map((j) => j.queue))) wakeUps.wake(queue);
        return results;
      }),

    fetch: async (queue, fetchOptions: FetchOptions) => {
      ensureOpen();
      const deadlineMs = clock.now() + fetchOptions.waitMs;
      const controller = new AbortController();
      const onAbort = () => controller.abort();
      fetchOptions.signal?.addEventListener('abort', onAbort, { once: true });
      pendingFetches.add(controller);
      try {
        for (;;) {
          ensureOpen();
          const rows = claimTx.immediate(queue, Math.max(1, fetchOptions.max), fetchOptions.leaseMs);
          if (rows.length > 0) return toLeases(rows);
          const remainingMs = deadlineMs - clock.now();
          if (remainingMs <= 0 || controller.signal.aborted) return [];
          await wakeUps.wait(queue, Math.min(remainingMs, pollIntervalMs), controller.signal);
          if (controller.signal.aborted) return [];
        }
      } finally {
        pendingFetches.delete(controller);
        fetchOptions.signal?.removeEventListener('abort', onAbort);
      }
    },

    ack: (lease) => {
      try {
        ensureOpen();
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
      return new Promise<void>((resolve, reject) => {
        pendingAcks.push({ lease, resolve, reject });
        if (!ackFlushScheduled) {
          ackFlushScheduled = true;
          setImmediate(flushAcks);
        }
      });
    },

    retry: (lease, retryOptions) =>
      run(() => {
        const changed = sql.retry.run({
          queue: lease.job.queue,
          id: lease.job.id,
          token: lease.token,
          runAt: Math.round(retryOptions.runAtMs),
          error: retryOptions.error,
        }).changes;
        if (changed > 0) wakeUps.wake(lease.job.queue);
      }),

    deadLetter: (lease, error) =>
      run(() => {
        sql.deadLetter.run({ queue: lease.job.queue, id: lease.job.id, token: lease.token, error, now: clock.now() });
      }),

    extendLease: (lease, leaseMs) =>
      run(() => {
        const until = clock.now() + leaseMs;
        const changed = sql.extend.run({ queue: lease.job.queue, id: lease.job.id, token: lease.token, until }).changes;
        if (changed > 0) lease.leaseUntilMs = until;
        return changed > 0;
      }),

    listDeadLetters: (queue, listOptions) =>
      run(() => (sql.listDead.all(queue, listOptions?.limit ?? 100, listOptions?.offset ?? 0) as JobRow[]).map(toDeadLetter)),

    getDeadLetter: (queue, jobId) =>
      run(() => {
        const row = sql.getDead.get(queue, jobId) as JobRow | undefined;
        return row === undefined ? null : toDeadLetter(row);
      }),

    replayDeadLetters: (queue, ids) =>
      run(() => {
        const count = replayTx.immediate(queue, ids);
        if (count > 0) wakeUps.wake(queue);
        return count;
      }),

    purgeDeadLetters: (queue, ids) => run(() => purgeTx.immediate(queue, ids)),

    stats: (queue) =>
      run((): QueueStats => {
        const nowMs = clock.now();
        const row = sql.stats.get({ queue, now: nowMs }) as {
          waiting: number;
          delayed: number;
          active: number;
          dead: number;
          oldest: number | null;
        };
        return {
          queue,
          waiting: row.waiting,
          active: row.active,
          delayed: row.delayed,
          dead: row.dead,
          oldestWaitingAgeMs: row.oldest === null ? null : Math.max(0, nowMs - row.oldest),
        };
      }),

    health: () => {
      const started = performance.now();
      return run((): HealthReport => {
        db.prepare('SELECT 1').get();
        return { ok: true, latencyMs: performance.now() - started };
      }).catch((error: unknown) => ({ ok: false, latencyMs: performance.now() - started, error: String(error) }));
    },

    getJob: (queue, jobId) =>
      run(() => {
        const row = sql.getJob.get(queue, jobId) as JobRow | undefined;
        return row === undefined ? null : { ...rowToJob(row), state: rowState(row, clock.now()) };
      }),

    listJobs: (queue, state: JobState, listOptions) =>
      run(() => {
        const limit = listOptions?.limit ?? 100;
        const offset = listOptions?.offset ?? 0;
        const nowMs = clock.now();
        let rows: JobRow[];
        if (state === 'waiting') rows = sql.listWaiting.all(queue, nowMs, limit, offset) as JobRow[];
        else if (state === 'delayed') rows = sql.listDelayed.all(queue, nowMs, limit, offset) as JobRow[];
        else if (state === 'active') rows = sql.listActive.all(queue, limit, offset) as JobRow[];
        else rows = sql.listDead.all(queue, limit, offset) as JobRow[];
        return rows.map((row): Job => rowToJob(row));
      }),
  };
  return provider;
}
