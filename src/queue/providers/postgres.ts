/**
 * The `postgres` queue provider: jobs live in the `queue_jobs` table of the Kairos PostgreSQL store.
 *
 * - Claim: one statement — a CTE selects the next due waiting rows in priority / run time / insertion
 *   order `FOR UPDATE SKIP LOCKED` and the UPDATE marks them active with a fresh lease token. Workers
 *   on any number of machines never block on, or double-claim, one another's rows.
 * - Wake-ups: the enqueue statement itself calls `pg_notify` (delivered on commit); each provider
 *   keeps one pooled client LISTENing, so a waiting fetch re-claims as soon as a job lands. A slow
 *   poll (`pollIntervalMs`) is the safety net for a lost notification or a listener reconnecting.
 * - Leases: `lease_until_ms` and `lease_token`, as in the SQLite provider; expired leases are returned
 *   to the queue (or dead-lettered after their final attempt) by fetch, at most every `reclaimIntervalMs`.
 * - Acks from concurrent handlers are coalesced into one DELETE per event-loop turn: each ack still
 *   resolves only after its row is gone, but 32 handlers finishing together cost one round trip.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { ProviderUnavailableError } from '../../errors.js';
import type { PostgresStore } from '../../store/store.js';
import {
  DEFAULT_MAX_ATTEMPTS,
  type DeadLetter,
  type EnqueueResult,
  type FetchOptions,
  type HealthReport,
  type JobState,
  type Lease,
  type ProviderCapabilities,
  type QueueProvider,
  type QueueStats,
} from '../contract.js';
import { compareDelivery, deadAtMs, EMPTY_METADATA, rowState, rowToJob, toJobRow, type JobRow, type JobRowValues } from './job-row.js';
import { WakeUps } from './long-poll.js';

export interface PostgresProviderOptions {
  /** The Kairos store whose `queue_jobs` table holds the jobs (migration 002). The caller closes it. */
  store: PostgresStore;
  /** Safety-net poll while a fetch waits for a notification. Default 2000. */
  pollIntervalMs?: number;
  /** How often fetch returns expired leases to the queue. Default 1000. */
  reclaimIntervalMs?: number;
  /** Default: the system clock. */
  clock?: Clock;
}

export const POSTGRES_CAPABILITIES: ProviderCapabilities = {
  nativeDelay: true,
  priority: true,
  nativeDedup: true,
  inspect: true,
  ordering: 'fifo',
};

/**
 * The batch as INSERT_SQL reads it: one array per column. A column where every row has its default
 * travels as NULL — unnest pads it to the batch's length with NULLs, which the statement reads as
 * the default — so a batch of plain jobs sends four arrays, not fourteen.
 */
function columnArrays(rows: readonly JobRowValues[], nowMs: number): Array<unknown[] | null> {
  const unlessAll = <T>(pick: (row: JobRowValues) => T, isDefault: (value: T) => boolean): T[] | null =>
    rows.some((row) => !isDefault(pick(row))) ? rows.map(pick) : null;
  return [
    rows.map((row) => row.queue),
    rows.map((row) => row.id),
    rows.map((row) => row.name),
    rows.map((row) => row.payload),
    unlessAll((row) => row.dedup_key, (value) => value === null),
    unlessAll((row) => row.priority, (value) => value === 0),
    unlessAll((row) => row.run_at_ms, (value) => value === nowMs),
    unlessAll((row) => row.attempt, (value) => value === 0),
    unlessAll((row) => row.max_attempts, (value) => value === DEFAULT_MAX_ATTEMPTS),
    unlessAll((row) => row.backoff, (value) => value === null),
    unlessAll((row) => row.timeout_ms, (value) => value === null),
    unlessAll((row) => row.metadata, (value) => value === EMPTY_METADATA),
    unlessAll((row) => row.last_error, (value) => value === null),
  ];
}

// A multi-array unnest reads the batch in one pass of PostgreSQL's array parser, cheaper than
// json_to_recordset (which builds a hash of keys per row). $14 is the enqueue time (every row's
// created_at_ms, and run_at_ms unless given); $15 the notification channel; $16 the queues with a
// job due now, notified on commit. `conflicts`: ON CONFLICT DO NOTHING costs a speculative
// insertion per row, so it is left out when no row can conflict — every id generated here (a
// fresh UUIDv7) and no dedup key; then only the row count comes back.
function insertSql(conflicts: boolean): string {
  return `
  INSERT INTO queue_jobs (queue, id, name, payload, dedup_key, priority, run_at_ms, attempt, max_attempts, backoff,
                          timeout_ms, metadata, created_at_ms, last_error)
  SELECT q, i, n, p, k, coalesce(pr, 0), coalesce(r, $14), coalesce(a, 0), coalesce(m, ${DEFAULT_MAX_ATTEMPTS}), b, t,
         coalesce(md, '${EMPTY_METADATA}'), $14, e
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::int[], $9::int[],
              $10::text[], $11::bigint[], $12::text[], $13::text[]) WITH ORDINALITY AS batch(q, i, n, p, k, pr, r, a, m, b, t, md, e, ord)
  WHERE (SELECT count(pg_notify($15, due)) FROM unnest($16::text[]) AS due) >= 0
  ORDER BY ord
  ${conflicts ? 'ON CONFLICT DO NOTHING RETURNING id' : ''}`;
}
const INSERT_SQL = insertSql(true);
const INSERT_FRESH_SQL = insertSql(false);

// A claim commits without waiting for its WAL flush (synchronous_commit off for this one
// transaction): a claim lost in a server crash only leaves the job waiting, to be claimed again —
// at-least-once either way — and the flush was most of the enqueue → start latency. Enqueue, ack,
// retry and dead letter keep the durable commit.
const CLAIM_SQL = `
  WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true)),
  next AS (
    SELECT id FROM queue_jobs
    WHERE queue = $1 AND state = 'waiting' AND run_at_ms <= $2
    ORDER BY priority DESC, run_at_ms, seq
    LIMIT $3
    FOR UPDATE SKIP LOCKED
  )
  UPDATE queue_jobs j SET state = 'active', attempt = j.attempt + 1, lease_token = $4, lease_until_ms = $5
  FROM next WHERE j.queue = $1 AND j.id = next.id AND (SELECT count(*) FROM async_commit) = 1
  RETURNING j.*`;

const RECLAIM_SQL = `
  UPDATE queue_jobs SET
    state = CASE WHEN attempt >= max_attempts THEN 'dead' ELSE 'waiting' END,
    dead_at_ms = CASE WHEN attempt >= max_attempts THEN $2::bigint ELSE NULL END,
    last_error = CASE WHEN attempt >= max_attempts
      THEN 'lease expired on the final attempt: the worker died or stalled' ELSE last_error END,
    lease_token = NULL, lease_until_ms = NULL
  WHERE queue = $1 AND state = 'active' AND lease_until_ms <= $2`;

const ACK_SQL = `
  DELETE FROM queue_jobs q USING unnest($1::text[], $2::text[], $3::text[]) AS a(queue, id, token)
  WHERE q.queue = a.queue AND q.id = a.id AND q.lease_token = a.token`;

const REPLAY_SQL = `
  UPDATE queue_jobs j SET state = 'waiting', attempt = 0, run_at_ms = $3, dead_at_ms = NULL,
    dedup_key = CASE WHEN j.dedup_key IS NOT NULL AND EXISTS (
      SELECT 1 FROM queue_jobs l WHERE l.queue = j.queue AND l.dedup_key = j.dedup_key AND l.state <> 'dead')
      THEN NULL ELSE j.dedup_key END
  WHERE j.queue = $1 AND j.state = 'dead' AND ($2::text[] IS NULL OR j.id = ANY($2::text[]))`;

const STATS_SQL = `
  SELECT
    count(*) FILTER (WHERE state = 'waiting' AND run_at_ms <= $2) AS waiting,
    count(*) FILTER (WHERE state = 'waiting' AND run_at_ms > $2) AS delayed,
    count(*) FILTER (WHERE state = 'active') AS active,
    count(*) FILTER (WHERE state = 'dead') AS dead,
    min(run_at_ms) FILTER (WHERE state = 'waiting' AND run_at_ms <= $2) AS oldest
  FROM queue_jobs WHERE queue = $1`;

interface PendingAck {
  lease: Lease;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Creates the PostgreSQL queue provider; `connect()` starts its LISTEN client. */
export function createPostgresProvider(options: PostgresProviderOptions): QueueProvider {
  const { pool, schema } = options.store;
  const clock = options.clock ?? systemClock;
  const pollIntervalMs = options.pollIntervalMs ?? 2_000;
  const reclaimIntervalMs = options.reclaimIntervalMs ?? 1_000;
  // One channel per schema, so Kairos installations (and test files) sharing a database stay apart.
  const channel = `kairos_queue_${schema}`.slice(0, 63);
  const wakeUps = new WakeUps();
  const lastReclaimMs = new Map<string, number>();
  const pendingFetches = new Set<AbortController>();
  let listener: pg.PoolClient | null = null;
  let listenerStarting: Promise<void> | null = null;
  let reconnectTimer: ReturnType<typeof setTimeout> | null = null;
  let reconnectAttempt = 0;
  let closed = false;
  let pendingAcks: PendingAck[] = [];
  let ackFlushScheduled = false;

  function ensureOpen(): void {
    if (closed) {
      throw new ProviderUnavailableError('The postgres queue provider is closed: create a new one to keep using the queue.', {
        details: { provider: 'postgres', reason: 'closed' },
      });
    }
  }

  async function startListener(): Promise<void> {
    const client = await pool.connect();
    const onError = () => {
      // The server went away (restart, network). Drop this client and listen again with backoff;
      // meanwhile waiting fetches fall back to the slow poll.
      client.off('error', onError);
      if (listener === client) listener = null;
      client.release(true);
      scheduleReconnect();
    };
    client.on('error', onError);
    client.on('notification', (message) => {
      if (message.payload !== undefined) wakeUps.wake(message.payload);
    });
    try {
      await client.query(`LISTEN "${channel}"`);
    } catch (error) {
      client.off('error', onError);
      client.release(true);
      throw error;
    }
    if (closed) {
      client.off('error', onError);
      client.release(true);
      return;
    }
    listener = client;
    reconnectAttempt = 0;
  }

  function ensureListener(): Promise<void> {
    if (listener !== null || closed) return Promise.resolve();
    listenerStarting ??= startListener().finally(() => {
      listenerStarting = null;
    });
    return listenerStarting;
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer !== null) return;
    const delayMs = Math.min(200 * 2 ** reconnectAttempt, 5_000);
    reconnectAttempt += 1;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      ensureListener().catch(() => scheduleReconnect());
    }, delayMs);
    reconnectTimer.unref();
  }

  function flushAcks(): void {
    ackFlushScheduled = false;
    const batch = pendingAcks;
    pendingAcks = [];
    if (batch.length === 0) return;
    pool
      .query(ACK_SQL, [batch.map((a) => a.lease.job.queue), batch.map((a) => a.lease.job.id), batch.map((a) => a.lease.token)])
      .then(
        () => batch.forEach((a) => a.resolve()),
        (error: unknown) => batch.forEach((a) => a.reject(error)),
      );
  }

  async function reclaimIfDue(queue: string, nowMs: number): Promise<void> {
    if (nowMs - (lastReclaimMs.get(queue) ?? 0) < reclaimIntervalMs) return;
    lastReclaimMs.set(queue, nowMs);
    await pool.query(RECLAIM_SQL, [queue, nowMs]);
  }

  async function claim(queue: string, max: number, leaseMs: number): Promise<Lease[]> {
    const nowMs = clock.now();
    await reclaimIfDue(queue, nowMs);
    const token = randomUUID();
    const { rows } = await pool.query<JobRow>(CLAIM_SQL, [queue, nowMs, max, token, nowMs + leaseMs]);
    return rows.sort(compareDelivery).map((row) => ({ job: rowToJob(row), token, leaseUntilMs: nowMs + leaseMs }));
  }

  function toDeadLetter(row: JobRow): DeadLetter {
    return { job: rowToJob(row), error: row.last_error ?? '', deadAtMs: deadAtMs(row) };
  }

  /** Rows that cannot conflict: one plain INSERT, every row is new. */
  async function insertFresh(rows: readonly JobRowValues[], params: unknown[]): Promise<EnqueueResult[]> {
    await pool.query(INSERT_FRESH_SQL, params);
    return rows.map((row) => ({ id: row.id, deduplicated: false }));
  }

  /** Rows with caller ids or dedup keys: ON CONFLICT DO NOTHING, then each refused row's holder. */
  async function insertDeduplicating(rows: readonly JobRowValues[], params: unknown[]): Promise<EnqueueResult[]> {
    const { rows: inserted } = await pool.query<{ id: string }>(INSERT_SQL, params);
    // RETURNING lists the ids that were inserted; the first input row with such an id is the one.
    const fresh = new Set(inserted.map((r) => r.id));
    const results: EnqueueResult[] = [];
    for (const row of rows) {
      if (fresh.delete(row.id)) {
        results.push({ id: row.id, deduplicated: false });
        continue;
      }
      const { rows: existing } = await pool.query<{ id: string }>(
        `SELECT id FROM queue_jobs WHERE queue = $1 AND (id = $2 OR (dedup_key = $3 AND state <> 'dead')) LIMIT 1`,
        [row.queue, row.id, row.dedup_key],
      );
      // The twin may have completed between the two statements; it was still a duplicate at insert.
      results.push({ id: existing[0]?.id ?? row.id, deduplicated: true });
    }
    return results;
  }

  const provider: QueueProvider = {
    name: 'postgres',
    capabilities: POSTGRES_CAPABILITIES,

    async connect() {
      ensureOpen();
      try {
        await ensureListener();
      } catch (cause) {
        throw new ProviderUnavailableError(
          `Cannot reach PostgreSQL at ${options.store.displayUrl} to listen for queue wake-ups: is the server running?`,
          { cause, details: { provider: 'postgres', url: options.store.displayUrl } },
        );
      }
    },

    async close() {
      if (closed) return;
      closed = true;
      if (reconnectTimer !== null) clearTimeout(reconnectTimer);
      for (const controller of pendingFetches) controller.abort();
      wakeUps.wakeAll();
      if (listenerStarting !== null) await listenerStarting.catch(() => undefined);
      if (ackFlushScheduled) flushAcks();
      const client = listener;
      listener = null;
      if (client !== null) {
        await client.query(`UNLISTEN "${channel}"`).catch(() => undefined);
        client.release();
      }
    },

    ensureQueue(queue) {
      try {
        ensureOpen();
        toJobRow({ queue, name: 'ensureQueue', payload: null }, 0);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },

    async enqueue(jobs) {
      ensureOpen();
      if (jobs.length === 0) return [];
      const nowMs = clock.now();
      const rows: JobRowValues[] = jobs.map((job) => toJobRow(job, nowMs));
      const conflictFree = jobs.every((job) => job.id === undefined && job.dedupKey === undefined);
      // A batch whose every due row is refused as a duplicate still notifies: a spurious wake-up.
      const due = [...new Set(rows.filter((row) => row.run_at_ms <= nowMs).map((row) => row.queue))];
      const params = [...columnArrays(rows, nowMs), nowMs, channel, due];
      const results = conflictFree ? await insertFresh(rows, params) : await insertDeduplicating(rows, params);
      for (const queue of due) wakeUps.wake(queue);
      return results;
    },

    async fetch(queue, fetchOptions: FetchOptions) {
      ensureOpen();
      if (fetchOptions.waitMs > 0) await ensureListener().catch(() => scheduleReconnect());
      const deadlineMs = clock.now() + fetchOptions.waitMs;
      const controller = new AbortController();
      const onAbort = () => controller.abort();
      fetchOptions.signal?.addEventListener('abort', onAbort, { once: true });
      pendingFetches.add(controller);
      try {
        for (;;) {
          ensureOpen();
          // Arm the wake-up before claiming, so a job committed between the claim and the wait is not missed.
          const remainingMs = deadlineMs - clock.now();
          const woken = wakeUps.arm(queue, Math.min(Math.max(remainingMs, 0), pollIntervalMs), controller.signal);
          let leases: Lease[];
          try {
            leases = await claim(queue, Math.max(1, fetchOptions.max), fetchOptions.leaseMs);
          } catch (error) {
            woken.cancel();
            throw error;
          }
          if (leases.length > 0 || remainingMs <= 0 || controller.signal.aborted) {
            woken.cancel();
            return leases;
          }
          await woken.promise;
          if (controller.signal.aborted || closed) return [];
        }
      } finally {
        pendingFetches.delete(controller);
        fetchOptions.signal?.removeEventListener('abort', onAbort);
      }
    },

    ack(lease) {
      if (closed) return Promise.reject(new ProviderUnavailableError('The postgres queue provider is closed.', { details: { provider: 'postgres' } }));
      return new Promise<void>((resolve, reject) => {
        pendingAcks.push({ lease, resolve, reject });
        if (!ackFlushScheduled) {
          ackFlushScheduled = true;
          setImmediate(flushAcks);
        }
      });
    },

    async retry(lease, retryOptions) {
      ensureOpen();
      const runAtMs = Math.round(retryOptions.runAtMs);
      await pool.query(
        `WITH updated AS (
           UPDATE queue_jobs SET state = 'waiting', run_at_ms = $4, last_error = $5, lease_token = NULL, lease_until_ms = NULL
           WHERE queue = $1 AND id = $2 AND lease_token = $3 RETURNING queue)
         SELECT pg_notify($6, queue) FROM updated WHERE $4 <= $7`,
        [lease.job.queue, lease.job.id, lease.token, runAtMs, retryOptions.error, channel, clock.now()],
      );
    },

    async deadLetter(lease, error) {
      ensureOpen();
      await pool.query(
        `UPDATE queue_jobs SET state = 'dead', dead_at_ms = $4, last_error = $5, lease_token = NULL, lease_until_ms = NULL
         WHERE queue = $1 AND id = $2 AND lease_token = $3`,
        [lease.job.queue, lease.job.id, lease.token, clock.now(), error],
      );
    },

    async extendLease(lease, leaseMs) {
      ensureOpen();
      const until = clock.now() + leaseMs;
      const { rowCount } = await pool.query(
        `UPDATE queue_jobs SET lease_until_ms = $4 WHERE queue = $1 AND id = $2 AND lease_token = $3 AND state = 'active'`,
        [lease.job.queue, lease.job.id, lease.token, until],
      );
      if ((rowCount ?? 0) > 0) lease.leaseUntilMs = until;
      return (rowCount ?? 0) > 0;
    },

    async listDeadLetters(queue, listOptions) {
      ensureOpen();
      const { rows } = await pool.query<JobRow>(
        `SELECT * FROM queue_jobs WHERE queue = $1 AND state = 'dead' ORDER BY dead_at_ms, seq LIMIT $2 OFFSET $3`,
        [queue, listOptions?.limit ?? 100, listOptions?.offset ?? 0],
      );
      return rows.map(toDeadLetter);
    },

    async getDeadLetter(queue, jobId) {
      ensureOpen();
      const { rows } = await pool.query<JobRow>(`SELECT * FROM queue_jobs WHERE queue = $1 AND id = $2 AND state = 'dead'`, [queue, jobId]);
      return rows[0] === undefined ? null : toDeadLetter(rows[0]);
    },

    async replayDeadLetters(queue, ids) {
      ensureOpen();
      const nowMs = clock.now();
      let count: number;
      try {
        count = (await pool.query(REPLAY_SQL, [queue, ids ?? null, nowMs])).rowCount ?? 0;
      } catch (error) {
        // Two dead jobs sharing a dedup key replayed together: replay them one by one instead, so only
        // the first keeps the key.
        if ((error as { code?: string }).code !== '23505') throw error;
        const { rows } = await pool.query<{ id: string }>(
          `SELECT id FROM queue_jobs WHERE queue = $1 AND state = 'dead' AND ($2::text[] IS NULL OR id = ANY($2::text[])) ORDER BY dead_at_ms, seq`,
          [queue, ids ?? null],
        );
        count = 0;
        for (const row of rows) count += (await pool.query(REPLAY_SQL, [queue, [row.id], nowMs])).rowCount ?? 0;
      }
      if (count > 0) await pool.query('SELECT pg_notify($1, $2)', [channel, queue]);
      return count;
    },

    async purgeDeadLetters(queue, ids) {
      ensureOpen();
      const { rowCount } = await pool.query(
        `DELETE FROM queue_jobs WHERE queue = $1 AND state = 'dead' AND ($2::text[] IS NULL OR id = ANY($2::text[]))`,
        [queue, ids ?? null],
      );
      return rowCount ?? 0;
    },

    async stats(queue): Promise<QueueStats> {
      ensureOpen();
      const nowMs = clock.now();
      const { rows } = await pool.query<Record<'waiting' | 'delayed' | 'active' | 'dead', string> & { oldest: string | null }>(
        STATS_SQL,
        [queue, nowMs],
      );
      const row = rows[0];
      return {
        queue,
        waiting: Number(row?.waiting ?? 0),
        active: Number(row?.active ?? 0),
        delayed: Number(row?.delayed ?? 0),
        dead: Number(row?.dead ?? 0),
        oldestWaitingAgeMs: row?.oldest == null ? null : Math.max(0, nowMs - Number(row.oldest)),
      };
    },

    async health(): Promise<HealthReport> {
      const started = performance.now();
      try {
        ensureOpen();
        await pool.query('SELECT 1');
        return { ok: true, latencyMs: performance.now() - started };
      } catch (error) {
        return { ok: false, latencyMs: performance.now() - started, error: String(error) };
      }
    },

    async getJob(queue, jobId) {
      ensureOpen();
      const { rows } = await pool.query<JobRow>(`SELECT * FROM queue_jobs WHERE queue = $1 AND id = $2`, [queue, jobId]);
      const row = rows[0];
      return row === undefined ? null : { ...rowToJob(row), state: rowState(row, clock.now()) };
    },

    async listJobs(queue, state: JobState, listOptions) {
      ensureOpen();
      const limit = listOptions?.limit ?? 100;
      const offset = listOptions?.offset ?? 0;
      const nowMs = clock.now();
      const where: Record<JobState, string> = {
        waiting: `state = 'waiting' AND run_at_ms <= $2 ORDER BY priority DESC, run_at_ms, seq`,
        delayed: `state = 'waiting' AND run_at_ms > $2 ORDER BY run_at_ms, seq`,
        active: `state = 'active' AND $2::bigint IS NOT NULL ORDER BY lease_until_ms, seq`,
        dead: `state = 'dead' AND $2::bigint IS NOT NULL ORDER BY dead_at_ms, seq`,
      };
      const { rows } = await pool.query<JobRow>(`SELECT * FROM queue_jobs WHERE queue = $1 AND ${where[state]} LIMIT $3 OFFSET $4`, [
        queue,
        nowMs,
        limit,
        offset,
      ]);
      return rows.map(rowToJob);
    },
  };
  return provider;
}

