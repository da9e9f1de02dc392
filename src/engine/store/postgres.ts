import type { PoolClient } from 'pg';
import type { PostgresStore } from '../../store/store.js';
import type { RunState } from '../../core/states.js';
import { decodeRecorded } from '../journal/recordable.js';
import type { RunFilter } from '../types.js';
import type { EngineRepository, NewRun, RunLease, RunOutcome, StepOutcome, BeginStep, NewRunEvent } from './repository.js';
import { FINISHED_STEP_SQL, TERMINAL_SQL, leaseLost, mapEvent, mapRun, mapStep } from './rows.js';
import type { Logger } from '../../core/logger.js';
import { FINISHED_PREFIX, PgListener, type NotificationHandlers, type PgListenerOptions } from './pg-listener.js';

type Row = Record<string, unknown>;

/** The engine repository on PostgreSQL, plus LISTEN/NOTIFY wake-ups for idle workers. */
export interface PostgresEngineRepository extends EngineRepository {
  /**
   * LISTENs for wake-ups (any process created, woke or handed over a run) and run-finished notices,
   * on a dedicated connection that is re-established when it drops. Resolves once listening.
   */
  listen(handlers: NotificationHandlers, logger: Logger, options?: PgListenerOptions): Promise<PgListener>;
}

/**
 * Claims use `FOR UPDATE SKIP LOCKED`, so any number of workers on any number of machines take
 * disjoint runs without waiting on each other; every change that makes a run runnable sends a
 * NOTIFY on `kairos_engine_<schema>` so idle workers claim it without waiting for their next poll.
 */
export function createPostgresEngineRepository(store: PostgresStore): PostgresEngineRepository {
  const pool = store.pool;
  const channel = `kairos_engine_${store.schema}`;
  const query = async (text: string, values: unknown[] = []): Promise<Row[]> => (await pool.query(text, values)).rows as Row[];
  const notify = async (): Promise<void> => {
    await pool.query('SELECT pg_notify($1, $2)', [channel, '']);
  };
  const inTransaction = async <T>(work: (client: PoolClient) => Promise<T>): Promise<T> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };
  // The fence of a journal write, in the write's own statement: the claim it runs under is current.
  // FOR KEY SHARE makes it linearize with a takeover: a claim (FOR UPDATE) waits for or skips a run
  // whose journal write is in flight, and a write that waited re-checks the token on the new row.
  const held = (runParam: number, tokenParam: number): string =>
    `EXISTS (SELECT 1 FROM engine_runs WHERE id = $${runParam} AND lease_token = $${tokenParam} AND state = 'Running' FOR KEY SHARE)`;
  const stillHeld = async (lease: RunLease): Promise<boolean> =>
    (await query(`SELECT 1 FROM engine_runs WHERE id = $1 AND lease_token = $2 AND state = 'Running'`, [lease.runId, lease.token])).length === 1;
  const wakeSql = `UPDATE engine_runs SET wakeups = wakeups + 1, wake_ms = CASE WHEN state = 'Waiting' THEN $1 ELSE wake_ms END
                   WHERE id = $2 AND state NOT IN ${TERMINAL_SQL}`;

  return {
    dialect: 'postgres',
    async listen(handlers, logger, options) {
      const listener = new PgListener(pool, channel, handlers, logger, options);
      await listener.start();
      return listener;
    },

    async insertRun(run: NewRun) {
      // The Pending transition goes in with the row (one statement), so the timeline never shows Running first.
      const inserted = await query(
        `WITH ins AS (INSERT INTO engine_runs (id, kind, name, params, state, parent_run_id, deployment_id, idempotency_key, tags, created_ms, scheduled_ms, updated_ms)
         VALUES ($1, $2, $3, $4, 'Pending', $5, $6, $7, $8, $9, $10, $9) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id),
         ev AS (INSERT INTO engine_events (run_id, type, state, at_ms) SELECT id, 'state', 'Pending', $9 FROM ins)
         SELECT id FROM ins`,
        [run.id, run.kind, run.name, run.paramsJson, run.parentRunId, run.deploymentId, run.idempotencyKey, JSON.stringify(run.tags), run.nowMs, run.scheduledMs],
      );
      if (inserted.length === 1) {
        await notify();
        return { runId: run.id, created: true };
      }
      const existing = await query('SELECT id FROM engine_runs WHERE idempotency_key = $1', [run.idempotencyKey]);
      return { runId: String(existing[0]?.id), created: false };
    },
    async getRun(runId) {
      const rows = await query('SELECT * FROM engine_runs WHERE id = $1', [runId]);
      return rows[0] === undefined ? undefined : mapRun(rows[0]);
    },
    async listRuns(filter: RunFilter) {
      const where: string[] = [];
      const args: unknown[] = [];
      const add = (clause: string, value: unknown): void => {
        args.push(value);
        where.push(clause.replace('?', `$${args.length}`));
      };
      if (filter.name !== undefined) add('name = ?', filter.name);
      if (filter.kind !== undefined) add('kind = ?', filter.kind);
      if (filter.deploymentId !== undefined) add('deployment_id = ?', filter.deploymentId);
      if (filter.parentRunId !== undefined) add('parent_run_id = ?', filter.parentRunId);
      if (filter.tag !== undefined) add('tags LIKE ?', `%${JSON.stringify(filter.tag)}%`);
      if (filter.state !== undefined) add('state = ANY(?)', typeof filter.state === 'string' ? [filter.state] : [...filter.state]);
      args.push(filter.limit ?? 100);
      const rows = await query(
        `SELECT * FROM engine_runs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_ms DESC, id DESC LIMIT $${args.length}`,
        args,
      );
      return rows.map(mapRun);
    },
    async activeRunIds(deploymentId) {
      const rows = await query(`SELECT id FROM engine_runs WHERE deployment_id = $1 AND state NOT IN ${TERMINAL_SQL} ORDER BY created_ms, id`, [deploymentId]);
      return rows.map((row) => String(row.id));
    },
    async claimRuns(request) {
      if (request.names.length === 0 || request.queues.length === 0) return [];
      const rows = await query(
        `WITH c AS (
           SELECT id, state AS previous_state, lease_owner AS previous_owner, wakeups AS previous_wakeups FROM engine_runs
           WHERE name = ANY($1) AND queue = ANY($2)
             AND ((state = 'Pending' AND scheduled_ms <= $3) OR (state = 'Running' AND lease_until_ms < $3) OR (state = 'Waiting' AND wake_ms <= $3))
           ORDER BY scheduled_ms, created_ms LIMIT $4 FOR UPDATE SKIP LOCKED)
         , u AS (UPDATE engine_runs r SET state = 'Running', lease_owner = $5, lease_token = gen_random_uuid()::text, lease_until_ms = $6, started_ms = COALESCE(r.started_ms, $3),
           updated_ms = $3, wake_ms = NULL
         FROM c WHERE r.id = c.id
         RETURNING r.*, c.previous_state, c.previous_owner, c.previous_wakeups)
         , ev AS (INSERT INTO engine_events (run_id, type, state, message, at_ms)
           SELECT id, 'state', state_name, message, $3 FROM (
             SELECT id, 'Crashed' AS state_name, 'worker ' || previous_owner || ' stopped renewing its lease; resuming from the journal' AS message, 0 AS ord
               FROM u WHERE previous_state = 'Running' AND previous_owner IS NOT NULL
             UNION ALL SELECT id, 'Running', NULL, 1 FROM u) x ORDER BY ord)
         SELECT * FROM u`,
        [[...request.names], [...request.queues], request.nowMs, request.limit, request.workerId, request.nowMs + request.leaseMs],
      );
      return rows.map((row) => ({
        run: mapRun(row),
        previousState: row.previous_state as RunState,
        previousOwner: (row.previous_owner as string | null) ?? null,
        wakeups: Number(row.previous_wakeups),
        lease: { runId: String(row.id), owner: request.workerId, token: String(row.lease_token) },
      }));
    },
    async heartbeat(lease, leaseUntilMs, nowMs) {
      const rows = await query(
        `WITH u AS (UPDATE engine_runs SET lease_until_ms = $1, updated_ms = $2 WHERE id = $3 AND lease_token = $5 AND state = 'Running' RETURNING id),
         s AS (UPDATE engine_tag_slots SET lease_until_ms = $1 WHERE run_id IN (SELECT id FROM u) AND owner = $4)
         SELECT id FROM u`,
        [leaseUntilMs, nowMs, lease.runId, lease.owner, lease.token],
      );
      return rows.length === 1;
    },
    async finishRun(lease, outcome: RunOutcome) {
      // One statement (one round trip, one commit): the run row, its subscriptions, its timeline.
      const rows = await query(
        `WITH u AS (UPDATE engine_runs SET state = $1, result = $2, error = $3, ended_ms = $4, updated_ms = $4, lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL, wake_ms = NULL
           WHERE id = $5 AND lease_token = $10 AND state = 'Running' RETURNING id, deployment_id),
         d AS (DELETE FROM engine_subscriptions WHERE run_id IN (SELECT id FROM u)),
         t AS (DELETE FROM engine_tag_slots WHERE run_id IN (SELECT id FROM u)),
         ev AS (INSERT INTO engine_events (run_id, type, state, message, at_ms) SELECT id, 'state', $1, $7, $4 FROM u)
         SELECT id, pg_notify($8, $9 || json_build_object('r', id, 'd', deployment_id, 's', $1::text, 'o', $6::text)::text) FROM u`,
        [
          outcome.state,
          outcome.resultJson,
          outcome.error === null ? null : JSON.stringify(outcome.error),
          outcome.nowMs,
          lease.runId,
          lease.owner,
          outcome.message,
          channel,
          FINISHED_PREFIX,
          lease.token,
        ],
      );
      return rows.length === 1;
    },
    async suspendRun(lease, wakeMs, wakeupsAtClaim, nowMs) {
      const result = await pool.query(
        `UPDATE engine_runs SET state = 'Waiting', wake_ms = CASE WHEN wakeups <> $1 THEN $2 ELSE $3::bigint END, lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL, updated_ms = $2
         WHERE id = $4 AND lease_token = $5 AND state = 'Running'`,
        [wakeupsAtClaim, nowMs, wakeMs, lease.runId, lease.token],
      );
      return result.rowCount === 1;
    },
    async handOffRun(lease, queue, nowMs) {
      const result = await pool.query(
        `UPDATE engine_runs SET state = 'Pending', queue = $1, scheduled_ms = $2, lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL, updated_ms = $2
         WHERE id = $3 AND lease_token = $4 AND state = 'Running'`,
        [queue, nowMs, lease.runId, lease.token],
      );
      if (result.rowCount === 1) await notify();
      return result.rowCount === 1;
    },
    async releaseRun(lease, nowMs) {
      await pool.query(
        `WITH u AS (UPDATE engine_runs SET lease_owner = NULL, lease_token = NULL, lease_until_ms = 0, updated_ms = $1 WHERE id = $2 AND lease_token = $4 AND state = 'Running' RETURNING id)
         DELETE FROM engine_tag_slots WHERE run_id IN (SELECT id FROM u) AND owner = $3`,
        [nowMs, lease.runId, lease.owner, lease.token],
      );
      await notify();
    },
    async cancelRun(runId, nowMs, origin) {
      return inTransaction(async (client) => {
        const { rows } = await client.query<{ id: string }>(
          `WITH RECURSIVE tree AS (SELECT id FROM engine_runs WHERE id = $1
             UNION ALL SELECT r.id FROM engine_runs r JOIN tree t ON r.parent_run_id = t.id)
           UPDATE engine_runs SET state = 'Cancelled', ended_ms = $2, updated_ms = $2, lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL, wake_ms = NULL
           WHERE id IN (SELECT id FROM tree) AND state NOT IN ${TERMINAL_SQL} RETURNING id`,
          [runId, nowMs],
        );
        const ids = rows.map((row) => row.id);
        if (ids.length > 0) {
          await client.query('DELETE FROM engine_subscriptions WHERE run_id = ANY($1)', [ids]);
          await client.query(`UPDATE engine_steps SET state = 'Cancelled', ended_ms = $1 WHERE run_id = ANY($2) AND state NOT IN ${FINISHED_STEP_SQL}`, [nowMs, ids]);
          // Delivered at commit: other processes' onRunFinished (buffered overlap policies) see the cancel at once.
          await client.query(
            `SELECT pg_notify($1, $2 || json_build_object('r', id, 'd', deployment_id, 's', 'Cancelled', 'o', $3::text)::text) FROM engine_runs WHERE id = ANY($4)`,
            [channel, FINISHED_PREFIX, origin ?? '', ids],
          );
        }
        return ids;
      });
    },
    async resetForRetry(runId, nowMs) {
      const reset = await inTransaction(async (client) => {
        const result = await client.query(
          `UPDATE engine_runs SET state = 'Pending', attempt = attempt + 1, error = NULL, result = NULL, ended_ms = NULL, scheduled_ms = $1,
             updated_ms = $1, queue = 'default', lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL, wake_ms = NULL
           WHERE id = $2 AND state IN ('Failed','TimedOut','Cancelled','Crashed')`,
          [nowMs, runId],
        );
        if (result.rowCount !== 1) return false;
        await client.query(`DELETE FROM engine_steps WHERE run_id = $1 AND state <> 'Completed'`, [runId]);
        return true;
      });
      if (reset) await notify();
      return reset;
    },
    async wake(runId, nowMs) {
      await pool.query(wakeSql, [nowMs, runId]);
      await notify();
    },
    async parentOf(runId) {
      const rows = await query('SELECT parent_run_id FROM engine_runs WHERE id = $1', [runId]);
      return (rows[0]?.parent_run_id as string | null | undefined) ?? null;
    },

    async listSteps(runId) {
      return (await query('SELECT * FROM engine_steps WHERE run_id = $1 ORDER BY seq', [runId])).map(mapStep);
    },
    async getStep(runId, key) {
      const rows = await query('SELECT * FROM engine_steps WHERE run_id = $1 AND step_key = $2', [runId, key]);
      return rows[0] === undefined ? undefined : mapStep(rows[0]);
    },
    async beginStep(step: BeginStep) {
      const running = step.state === 'Running' ? 1 : 0;
      const { lease } = step;
      // INSERT … SELECT … WHERE (the fence): when the claim is not current, neither the insert nor the upsert happens.
      const rows = await query(
        `INSERT INTO engine_steps (run_id, step_key, kind, state, attempt, input_hash, input, queue, wake_ms, started_ms)
         SELECT $1, $2, $3, $4, $5::int, $6, $7, $8, $9::bigint, $10::bigint WHERE ${held(1, 12)}
         ON CONFLICT (run_id, step_key) DO UPDATE SET state = excluded.state, attempt = engine_steps.attempt + $5,
           started_ms = COALESCE(engine_steps.started_ms, excluded.started_ms), wake_ms = excluded.wake_ms
         WHERE engine_steps.state NOT IN ${FINISHED_STEP_SQL}
           AND (engine_steps.state <> 'Retrying' OR engine_steps.wake_ms IS NULL OR engine_steps.wake_ms <= $11)
         RETURNING *`,
        [lease.runId, step.key, step.kind, step.state, running, step.inputHash, step.inputJson, step.queue, step.wakeMs ?? null, running === 1 ? step.nowMs : null, step.nowMs, lease.token],
      );
      if (rows[0] !== undefined) return mapStep(rows[0]);
      // Nothing written: the step is finished or its retry is not due — or the claim is gone.
      if (!(await stillHeld(lease))) throw leaseLost(lease, `the start of step '${step.key}'`);
      const existing = await query('SELECT * FROM engine_steps WHERE run_id = $1 AND step_key = $2', [lease.runId, step.key]);
      return mapStep(existing[0] as Row);
    },
    async finishStep(lease, key, outcome: StepOutcome) {
      const result = await pool.query(
        `UPDATE engine_steps SET state = $1, output = $2, error = $3, cached = $4, ended_ms = $5, wake_ms = NULL
         WHERE run_id = $6 AND step_key = $7 AND state <> 'Completed' AND ${held(6, 8)}`,
        [outcome.state, outcome.outputJson, outcome.error === null ? null : JSON.stringify(outcome.error), outcome.cached === true ? 1 : 0, outcome.nowMs, lease.runId, key, lease.token],
      );
      if (result.rowCount !== 1 && !(await stillHeld(lease))) throw leaseLost(lease, `the outcome of step '${key}'`);
      return result.rowCount === 1;
    },
    async recordStep(step) {
      const { lease } = step;
      const result = await pool.query(
        `INSERT INTO engine_steps (run_id, step_key, kind, state, attempt, output, error, started_ms, ended_ms)
         SELECT $1, $2, $3, $4, 1, $5, $6, $7::bigint, $8::bigint WHERE ${held(1, 9)}
         ON CONFLICT (run_id, step_key) DO UPDATE SET state = excluded.state, output = excluded.output, error = excluded.error, ended_ms = excluded.ended_ms, wake_ms = NULL
         WHERE engine_steps.state <> 'Completed'`,
        [lease.runId, step.key, step.kind, step.state, step.outputJson, step.error === null ? null : JSON.stringify(step.error), step.startedMs, step.nowMs, lease.token],
      );
      if (result.rowCount !== 1 && !(await stillHeld(lease))) throw leaseLost(lease, `the outcome of step '${step.key}'`);
      return result.rowCount === 1;
    },
    async markStep(lease, key, state, fields) {
      const result = await pool.query(
        `UPDATE engine_steps SET state = $1, error = COALESCE($2, error), wake_ms = COALESCE($3, wake_ms)
         WHERE run_id = $4 AND step_key = $5 AND state NOT IN ${FINISHED_STEP_SQL} AND ${held(4, 6)}`,
        [state, fields.error === undefined || fields.error === null ? null : JSON.stringify(fields.error), fields.wakeMs ?? null, lease.runId, key, lease.token],
      );
      if (result.rowCount !== 1 && !(await stillHeld(lease))) throw leaseLost(lease, `the ${state} state of step '${key}'`);
    },

    async appendEvent(event: NewRunEvent) {
      await pool.query('INSERT INTO engine_events (run_id, step_key, type, state, level, message, data, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)', [
        event.runId,
        event.stepKey,
        event.type,
        event.state ?? null,
        event.level ?? null,
        event.message ?? null,
        event.dataJson ?? null,
        event.atMs,
      ]);
    },
    async listEvents(runId, options = {}) {
      const args: unknown[] = [runId];
      let where = 'run_id = $1';
      if (options.type !== undefined) {
        args.push(options.type);
        where += ` AND type = $${args.length}`;
      }
      if (options.stepKey !== undefined) {
        args.push(options.stepKey);
        where += ` AND step_key = $${args.length}`;
      }
      return (await query(`SELECT * FROM engine_events WHERE ${where} ORDER BY id`, args)).map(mapEvent);
    },

    async subscribe(runId, name, matchJson, nowMs) {
      await pool.query(
        `INSERT INTO engine_subscriptions (run_id, name, match, created_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (run_id, name) DO UPDATE SET match = excluded.match`,
        [runId, name, matchJson, nowMs],
      );
    },
    async deliverEvent(name, payloadJson, nowMs) {
      const subs = await inTransaction(async (client) => {
        const { rows } = await client.query<{ run_id: string; match: string | null }>(
          `SELECT s.run_id, s.match FROM engine_subscriptions s JOIN engine_runs r ON r.id = s.run_id
           WHERE s.name = $1 AND r.state NOT IN ${TERMINAL_SQL} ORDER BY r.created_ms FOR UPDATE OF r`,
          [name],
        );
        for (const sub of rows) {
          await client.query(`INSERT INTO engine_inbox (run_id, kind, name, payload, delivered_ms) VALUES ($1, 'event', $2, $3, $4)`, [sub.run_id, name, payloadJson, nowMs]);
          await client.query(wakeSql, [nowMs, sub.run_id]);
        }
        return rows;
      });
      if (subs.length > 0) await notify();
      return subs.map((sub) => ({ runId: sub.run_id, matchJson: sub.match }));
    },
    async deliverSignal(runId, name, payloadJson, nowMs) {
      const delivered = await inTransaction(async (client) => {
        const live = await client.query(`SELECT 1 FROM engine_runs WHERE id = $1 AND state NOT IN ${TERMINAL_SQL} FOR UPDATE`, [runId]);
        if (live.rowCount !== 1) return false;
        await client.query(`INSERT INTO engine_inbox (run_id, kind, name, payload, delivered_ms) VALUES ($1, 'signal', $2, $3, $4)`, [runId, name, payloadJson, nowMs]);
        await client.query(wakeSql, [nowMs, runId]);
        return true;
      });
      if (delivered) await notify();
      return delivered;
    },
    async consumeInbox(runId, kind, name, stepKey, accept) {
      const previous = await query('SELECT payload FROM engine_inbox WHERE run_id = $1 AND consumed_by = $2', [runId, stepKey]);
      if (previous[0] !== undefined) return { payload: decodeRecorded((previous[0].payload as string | null) ?? null) };
      const rows = await query('SELECT id, payload FROM engine_inbox WHERE run_id = $1 AND kind = $2 AND name = $3 AND consumed_by IS NULL ORDER BY id', [
        runId,
        kind,
        name,
      ]);
      for (const row of rows) {
        const payload = decodeRecorded((row.payload as string | null) ?? null);
        if (!accept(payload)) continue;
        const taken = await pool.query('UPDATE engine_inbox SET consumed_by = $1 WHERE id = $2 AND consumed_by IS NULL', [stepKey, row.id]);
        if (taken.rowCount === 1) return { payload };
      }
      return undefined;
    },

    async acquireTagSlot(request) {
      // Two workers racing for one free slot: the loser's insert meets the winner's row, whose lease
      // is valid, so its DO UPDATE does nothing and it returns no row — it simply tries again later.
      const rows = await query(
        `INSERT INTO engine_tag_slots (tag, slot, run_id, step_key, owner, lease_until_ms)
         SELECT $1, s, $3, $4, $5, $6 FROM generate_series(0, $2::int - 1) s
         WHERE NOT EXISTS (SELECT 1 FROM engine_tag_slots t WHERE t.tag = $1 AND t.slot = s AND t.lease_until_ms >= $7)
         ORDER BY s LIMIT 1
         ON CONFLICT (tag, slot) DO UPDATE SET run_id = excluded.run_id, step_key = excluded.step_key, owner = excluded.owner,
           lease_until_ms = excluded.lease_until_ms
         WHERE engine_tag_slots.lease_until_ms < $7
         RETURNING slot`,
        [request.tag, request.limit, request.runId, request.stepKey, request.owner, request.leaseUntilMs, request.nowMs],
      );
      return rows.length === 1;
    },
    async releaseTagSlot(tag, runId, stepKey) {
      await pool.query('DELETE FROM engine_tag_slots WHERE tag = $1 AND run_id = $2 AND step_key = $3', [tag, runId, stepKey]);
    },

    async getCache(cacheKey, nowMs) {
      const rows = await query('SELECT output FROM engine_cache WHERE cache_key = $1 AND (expires_ms IS NULL OR expires_ms > $2)', [cacheKey, nowMs]);
      return rows[0] === undefined ? undefined : { outputJson: (rows[0].output as string | null) ?? null };
    },
    async putCache(cacheKey, outputJson, nowMs, expiresMs) {
      await pool.query(
        `INSERT INTO engine_cache (cache_key, output, created_ms, expires_ms) VALUES ($1, $2, $3, $4)
         ON CONFLICT (cache_key) DO UPDATE SET output = excluded.output, created_ms = excluded.created_ms, expires_ms = excluded.expires_ms`,
        [cacheKey, outputJson, nowMs, expiresMs],
      );
    },
  };
}
