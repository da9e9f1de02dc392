import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { SqliteStore } from '../../store/store.js';
import type { RunState } from '../../core/states.js';
import { decodeRecorded } from '../journal/recordable.js';
import type { RunFilter, RunRecord, StepRecord } from '../types.js';
import type { BeginStep, ClaimRequest, ClaimedRun, EngineRepository, NewRun, NewRunEvent, RunLease, RunOutcome, StepOutcome, TagSlotRequest } from './repository.js';

/** The repository with synchronous methods: what better-sqlite3 naturally gives. */
type SyncRepository = {
  [K in keyof EngineRepository]: EngineRepository[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : EngineRepository[K];
};

/** Wraps each synchronous method so that it returns a promise and reports a throw as a rejection. */
function toAsync(sync: SyncRepository): EngineRepository {
  const wrapped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(sync)) {
    wrapped[key] =
      typeof value === 'function'
        ? (...args: unknown[]) => {
            try {
              return Promise.resolve((value as (...a: unknown[]) => unknown)(...args));
            } catch (error) {
              return Promise.reject(error instanceof Error ? error : new Error(String(error)));
            }
          }
        : value;
  }
  return wrapped as unknown as EngineRepository;
}
import { FINISHED_STEP_SQL, TERMINAL_SQL, crashMessage, leaseLost, mapEvent, mapRun, mapStep } from './rows.js';

type Row = Record<string, unknown>;

/**
 * The engine repository on embedded SQLite. better-sqlite3 is synchronous, so each method is one
 * short transaction; claims run in BEGIN IMMEDIATE so two processes sharing the file never take the
 * same run (the second waits for the write lock, then sees the lease).
 */
export function createSqliteEngineRepository(store: SqliteStore): EngineRepository {
  const db = store.db;
  const cache = new Map<string, Database.Statement>();
  const sql = (text: string): Database.Statement => {
    let statement = cache.get(text);
    if (statement === undefined) {
      statement = db.prepare(text);
      cache.set(text, statement);
    }
    return statement;
  };
  // The fence of a journal write, in the write's own statement: the claim it runs under is current.
  const HELD = `EXISTS (SELECT 1 FROM engine_runs WHERE id = ? AND lease_token = ? AND state = 'Running')`;
  const held = (lease: RunLease): boolean => sql(`SELECT ${HELD}`).pluck().get(lease.runId, lease.token) === 1;
  const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(',');

  const claim = db.transaction((request: ClaimRequest): ClaimedRun[] => {
    if (request.names.length === 0 || request.queues.length === 0) return [];
    const candidates = sql(
      `SELECT id, state, lease_owner, wakeups FROM engine_runs
       WHERE name IN (${placeholders(request.names.length)}) AND queue IN (${placeholders(request.queues.length)})
         AND ((state = 'Pending' AND scheduled_ms <= ?) OR (state = 'Running' AND lease_until_ms < ?) OR (state = 'Waiting' AND wake_ms <= ?))
       ORDER BY scheduled_ms, created_ms LIMIT ?`,
    ).all(...request.names, ...request.queues, request.nowMs, request.nowMs, request.nowMs, request.limit) as Row[];
    const claimed: ClaimedRun[] = [];
    for (const candidate of candidates) {
      const token = randomUUID();
      const row = sql(
        `UPDATE engine_runs SET state = 'Running', lease_owner = ?, lease_token = ?, lease_until_ms = ?, started_ms = COALESCE(started_ms, ?),
           updated_ms = ?, wake_ms = NULL WHERE id = ? RETURNING *`,
      ).get(request.workerId, token, request.nowMs + request.leaseMs, request.nowMs, request.nowMs, candidate.id) as Row;
      if (candidate.state === 'Running' && candidate.lease_owner !== null) {
        sql(`INSERT INTO engine_events (run_id, type, state, message, at_ms) VALUES (?, 'state', 'Crashed', ?, ?)`).run(candidate.id, crashMessage(candidate.lease_owner as string), request.nowMs);
      }
      sql(`INSERT INTO engine_events (run_id, type, state, at_ms) VALUES (?, 'state', 'Running', ?)`).run(candidate.id, request.nowMs);
      claimed.push({
        run: mapRun(row),
        previousState: candidate.state as RunState,
        previousOwner: (candidate.lease_owner as string | null) ?? null,
        wakeups: Number(candidate.wakeups),
        lease: { runId: String(candidate.id), owner: request.workerId, token },
      });
    }
    return claimed;
  });

  const descendants = (runId: string): string[] => {
    const ids = [runId];
    for (let i = 0; i < ids.length; i += 1) {
      const children = sql('SELECT id FROM engine_runs WHERE parent_run_id = ?').all(ids[i]) as Row[];
      for (const child of children) ids.push(String(child.id));
    }
    return ids;
  };

  const cancel = db.transaction((runId: string, nowMs: number): string[] => {
    const ids = descendants(runId);
    const cancelled: string[] = [];
    for (const id of ids) {
      const row = sql(
        `UPDATE engine_runs SET state = 'Cancelled', ended_ms = ?, updated_ms = ?, lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL, wake_ms = NULL
         WHERE id = ? AND state NOT IN ${TERMINAL_SQL} RETURNING id`,
      ).get(nowMs, nowMs, id) as Row | undefined;
      if (row !== undefined) {
        cancelled.push(id);
        sql('DELETE FROM engine_subscriptions WHERE run_id = ?').run(id);
        sql(`UPDATE engine_steps SET state = 'Cancelled', ended_ms = ? WHERE run_id = ? AND state NOT IN ${FINISHED_STEP_SQL}`).run(nowMs, id);
      }
    }
    return cancelled;
  });

  const wakeSql = `UPDATE engine_runs SET wakeups = wakeups + 1, wake_ms = CASE WHEN state = 'Waiting' THEN ? ELSE wake_ms END
                   WHERE id = ? AND state NOT IN ${TERMINAL_SQL}`;

  const deliver = db.transaction((name: string, payloadJson: string | null, nowMs: number) => {
    const subs = sql(
      `SELECT s.run_id, s.match FROM engine_subscriptions s JOIN engine_runs r ON r.id = s.run_id
       WHERE s.name = ? AND r.state NOT IN ${TERMINAL_SQL} ORDER BY r.created_ms`,
    ).all(name) as Row[];
    for (const sub of subs) {
      sql(`INSERT INTO engine_inbox (run_id, kind, name, payload, delivered_ms) VALUES (?, 'event', ?, ?, ?)`).run(sub.run_id, name, payloadJson, nowMs);
      sql(wakeSql).run(nowMs, sub.run_id);
    }
    return subs.map((sub) => ({ runId: String(sub.run_id), matchJson: (sub.match as string | null) ?? null }));
  });

  const consume = db.transaction(
    (runId: string, kind: string, name: string, stepKey: string, accept: (payload: unknown) => boolean): { payload: unknown } | undefined => {
      const previous = sql('SELECT payload FROM engine_inbox WHERE run_id = ? AND consumed_by = ?').get(runId, stepKey) as Row | undefined;
      if (previous !== undefined) return { payload: decodeRecorded((previous.payload as string | null) ?? null) };
      const rows = sql('SELECT id, payload FROM engine_inbox WHERE run_id = ? AND kind = ? AND name = ? AND consumed_by IS NULL ORDER BY id').all(
        runId,
        kind,
        name,
      ) as Row[];
      for (const row of rows) {
        const payload = decodeRecorded((row.payload as string | null) ?? null);
        if (!accept(payload)) continue;
        sql('UPDATE engine_inbox SET consumed_by = ? WHERE id = ?').run(stepKey, row.id);
        return { payload };
      }
      return undefined;
    },
  );

  const insertRun = db.transaction((run: NewRun) => {
    const inserted = sql(
      `INSERT INTO engine_runs (id, kind, name, params, state, parent_run_id, deployment_id, idempotency_key, tags, created_ms, scheduled_ms, updated_ms)
       VALUES (?, ?, ?, ?, 'Pending', ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING RETURNING id`,
    ).get(run.id, run.kind, run.name, run.paramsJson, run.parentRunId, run.deploymentId, run.idempotencyKey, JSON.stringify(run.tags), run.nowMs, run.scheduledMs, run.nowMs) as
      | Row
      | undefined;
    if (inserted !== undefined) {
      // The Pending transition goes in with the row, so the timeline never shows Running first.
      sql(`INSERT INTO engine_events (run_id, step_key, type, state, at_ms) VALUES (?, NULL, 'state', 'Pending', ?)`).run(run.id, run.nowMs);
      return { runId: run.id, created: true };
    }
    const existing = sql('SELECT id FROM engine_runs WHERE idempotency_key = ?').get(run.idempotencyKey) as Row;
    return { runId: String(existing.id), created: false };
  });

  const finish = db.transaction((lease: RunLease, outcome: RunOutcome): boolean => {
    const { runId } = lease;
    const changed =
      sql(
        `UPDATE engine_runs SET state = ?, result = ?, error = ?, ended_ms = ?, updated_ms = ?, lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL, wake_ms = NULL
         WHERE id = ? AND lease_token = ? AND state = 'Running'`,
      ).run(outcome.state, outcome.resultJson, outcome.error === null ? null : JSON.stringify(outcome.error), outcome.nowMs, outcome.nowMs, runId, lease.token)
        .changes === 1;
    if (changed) {
      sql('DELETE FROM engine_subscriptions WHERE run_id = ?').run(runId);
      sql('DELETE FROM engine_tag_slots WHERE run_id = ?').run(runId);
      sql(`INSERT INTO engine_events (run_id, type, state, message, at_ms) VALUES (?, 'state', ?, ?, ?)`).run(runId, outcome.state, outcome.message, outcome.nowMs);
    }
    return changed;
  });

  const acquireSlot = db.transaction((request: TagSlotRequest): boolean => {
    const taken = new Set(
      (sql('SELECT slot FROM engine_tag_slots WHERE tag = ? AND slot < ? AND lease_until_ms >= ?').all(request.tag, request.limit, request.nowMs) as Row[]).map((row) =>
        Number(row.slot),
      ),
    );
    for (let slot = 0; slot < request.limit; slot += 1) {
      if (taken.has(slot)) continue;
      sql('INSERT OR REPLACE INTO engine_tag_slots (tag, slot, run_id, step_key, owner, lease_until_ms) VALUES (?, ?, ?, ?, ?, ?)').run(
        request.tag,
        slot,
        request.runId,
        request.stepKey,
        request.owner,
        request.leaseUntilMs,
      );
      return true;
    }
    return false;
  });

  const resetForRetry = db.transaction((runId: string, nowMs: number): boolean => {
    const row = sql(
      `UPDATE engine_runs SET state = 'Pending', attempt = attempt + 1, error = NULL, result = NULL, ended_ms = NULL, scheduled_ms = ?,
         updated_ms = ?, queue = 'default', lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL, wake_ms = NULL
       WHERE id = ? AND state IN ('Failed','TimedOut','Cancelled','Crashed') RETURNING id`,
    ).get(nowMs, nowMs, runId) as Row | undefined;
    if (row === undefined) return false;
    sql(`DELETE FROM engine_steps WHERE run_id = ? AND state <> 'Completed'`).run(runId);
    return true;
  });

  return toAsync({
    dialect: 'sqlite',
    insertRun: (run) => insertRun(run),
    getRun: (runId) => {
      const row = sql('SELECT * FROM engine_runs WHERE id = ?').get(runId) as Row | undefined;
      return row === undefined ? undefined : mapRun(row);
    },
    listRuns: (filter: RunFilter): RunRecord[] => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.name !== undefined) {
        where.push('name = ?');
        args.push(filter.name);
      }
      if (filter.kind !== undefined) {
        where.push('kind = ?');
        args.push(filter.kind);
      }
      if (filter.deploymentId !== undefined) {
        where.push('deployment_id = ?');
        args.push(filter.deploymentId);
      }
      if (filter.parentRunId !== undefined) {
        where.push('parent_run_id = ?');
        args.push(filter.parentRunId);
      }
      if (filter.tag !== undefined) {
        where.push('tags LIKE ?');
        args.push(`%${JSON.stringify(filter.tag)}%`);
      }
      if (filter.state !== undefined) {
        const states = typeof filter.state === 'string' ? [filter.state] : [...filter.state];
        where.push(`state IN (${placeholders(states.length)})`);
        args.push(...states);
      }
      const rows = db
        .prepare(`SELECT * FROM engine_runs ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_ms DESC, rowid DESC LIMIT ?`)
        .all(...args, filter.limit ?? 100) as Row[];
      return rows.map(mapRun);
    },
    activeRunIds: (deploymentId) =>
      (sql(`SELECT id FROM engine_runs WHERE deployment_id = ? AND state NOT IN ${TERMINAL_SQL} ORDER BY created_ms, rowid`).all(deploymentId) as Row[]).map(
        (row) => String(row.id),
      ),
    claimRuns: (request) => claim.immediate(request),
    heartbeat: (lease, leaseUntilMs, nowMs) => {
      const renewed =
        sql(`UPDATE engine_runs SET lease_until_ms = ?, updated_ms = ? WHERE id = ? AND lease_token = ? AND state = 'Running'`).run(leaseUntilMs, nowMs, lease.runId, lease.token)
          .changes === 1;
      if (renewed) sql('UPDATE engine_tag_slots SET lease_until_ms = ? WHERE run_id = ? AND owner = ?').run(leaseUntilMs, lease.runId, lease.owner);
      return renewed;
    },
    finishRun: (lease, outcome: RunOutcome) => finish.immediate(lease, outcome),
    suspendRun: (lease, wakeMs, wakeupsAtClaim, nowMs) =>
      sql(
        `UPDATE engine_runs SET state = 'Waiting', wake_ms = CASE WHEN wakeups <> ? THEN ? ELSE ? END, lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL, updated_ms = ?
         WHERE id = ? AND lease_token = ? AND state = 'Running'`,
      ).run(wakeupsAtClaim, nowMs, wakeMs, nowMs, lease.runId, lease.token).changes === 1,
    handOffRun: (lease, queue, nowMs) =>
      sql(
        `UPDATE engine_runs SET state = 'Pending', queue = ?, scheduled_ms = ?, lease_owner = NULL, lease_token = NULL, lease_until_ms = NULL, updated_ms = ?
         WHERE id = ? AND lease_token = ? AND state = 'Running'`,
      ).run(queue, nowMs, nowMs, lease.runId, lease.token).changes === 1,
    releaseRun: (lease, nowMs) => {
      const released =
        sql(`UPDATE engine_runs SET lease_owner = NULL, lease_token = NULL, lease_until_ms = 0, updated_ms = ? WHERE id = ? AND lease_token = ? AND state = 'Running'`).run(
          nowMs,
          lease.runId,
          lease.token,
        ).changes === 1;
      if (released) sql('DELETE FROM engine_tag_slots WHERE run_id = ? AND owner = ?').run(lease.runId, lease.owner);
    },
    acquireTagSlot: (request) => acquireSlot.immediate(request),
    releaseTagSlot: (tag, runId, stepKey) => {
      sql('DELETE FROM engine_tag_slots WHERE tag = ? AND run_id = ? AND step_key = ?').run(tag, runId, stepKey);
    },
    cancelRun: (runId, nowMs) => cancel.immediate(runId, nowMs),
    resetForRetry: (runId, nowMs) => resetForRetry.immediate(runId, nowMs),
    wake: (runId, nowMs) => {
      sql(wakeSql).run(nowMs, runId);
    },
    parentOf: (runId) => {
      const row = sql('SELECT parent_run_id FROM engine_runs WHERE id = ?').get(runId) as Row | undefined;
      return (row?.parent_run_id as string | null | undefined) ?? null;
    },

    listSteps: (runId): StepRecord[] => (sql('SELECT * FROM engine_steps WHERE run_id = ? ORDER BY rowid').all(runId) as Row[]).map(mapStep),
    getStep: (runId, key) => {
      const row = sql('SELECT * FROM engine_steps WHERE run_id = ? AND step_key = ?').get(runId, key) as Row | undefined;
      return row === undefined ? undefined : mapStep(row);
    },
    beginStep: (step: BeginStep) => {
      const running = step.state === 'Running' ? 1 : 0;
      const { lease } = step;
      // INSERT … SELECT … WHERE (the fence): when the claim is not current, neither the insert nor the upsert happens.
      const row = sql(
        `INSERT INTO engine_steps (run_id, step_key, kind, state, attempt, input_hash, input, queue, wake_ms, started_ms)
         SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE ${HELD}
         ON CONFLICT (run_id, step_key) DO UPDATE SET state = excluded.state, attempt = engine_steps.attempt + ?,
           started_ms = COALESCE(engine_steps.started_ms, excluded.started_ms), wake_ms = excluded.wake_ms
         WHERE engine_steps.state NOT IN ${FINISHED_STEP_SQL}
           AND (engine_steps.state <> 'Retrying' OR engine_steps.wake_ms IS NULL OR engine_steps.wake_ms <= ?)
         RETURNING *`,
      ).get(
        lease.runId,
        step.key,
        step.kind,
        step.state,
        running,
        step.inputHash,
        step.inputJson,
        step.queue,
        step.wakeMs ?? null,
        running === 1 ? step.nowMs : null,
        lease.runId,
        lease.token,
        running,
        step.nowMs,
      ) as Row | undefined;
      if (row !== undefined) return mapStep(row);
      // Nothing written: the step is finished or its retry is not due — or the claim is gone.
      if (!held(lease)) throw leaseLost(lease, `the start of step '${step.key}'`);
      return mapStep(sql('SELECT * FROM engine_steps WHERE run_id = ? AND step_key = ?').get(lease.runId, step.key) as Row);
    },
    finishStep: (lease, key, outcome: StepOutcome) => {
      const changed =
        sql(
          `UPDATE engine_steps SET state = ?, output = ?, error = ?, cached = ?, ended_ms = ?, wake_ms = NULL WHERE run_id = ? AND step_key = ? AND state <> 'Completed' AND ${HELD}`,
        ).run(
          outcome.state,
          outcome.outputJson,
          outcome.error === null ? null : JSON.stringify(outcome.error),
          outcome.cached === true ? 1 : 0,
          outcome.nowMs,
          lease.runId,
          key,
          lease.runId,
          lease.token,
        ).changes === 1;
      if (!changed && !held(lease)) throw leaseLost(lease, `the outcome of step '${key}'`);
      return changed;
    },
    recordStep: (step) => {
      const { lease } = step;
      const changed =
        sql(
          `INSERT INTO engine_steps (run_id, step_key, kind, state, attempt, output, error, started_ms, ended_ms)
           SELECT ?, ?, ?, ?, 1, ?, ?, ?, ? WHERE ${HELD}
           ON CONFLICT (run_id, step_key) DO UPDATE SET state = excluded.state, output = excluded.output, error = excluded.error, ended_ms = excluded.ended_ms, wake_ms = NULL
           WHERE engine_steps.state <> 'Completed'`,
        ).run(lease.runId, step.key, step.kind, step.state, step.outputJson, step.error === null ? null : JSON.stringify(step.error), step.startedMs, step.nowMs, lease.runId, lease.token)
          .changes === 1;
      if (!changed && !held(lease)) throw leaseLost(lease, `the outcome of step '${step.key}'`);
      return changed;
    },
    markStep: (lease, key, state, fields) => {
      const changed =
        sql(
          `UPDATE engine_steps SET state = ?, error = COALESCE(?, error), wake_ms = COALESCE(?, wake_ms)
           WHERE run_id = ? AND step_key = ? AND state NOT IN ${FINISHED_STEP_SQL} AND ${HELD}`,
        ).run(state, fields.error === undefined || fields.error === null ? null : JSON.stringify(fields.error), fields.wakeMs ?? null, lease.runId, key, lease.runId, lease.token)
          .changes === 1;
      if (!changed && !held(lease)) throw leaseLost(lease, `the ${state} state of step '${key}'`);
    },

    appendEvent: (event: NewRunEvent) => {
      sql('INSERT INTO engine_events (run_id, step_key, type, state, level, message, data, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
        event.runId,
        event.stepKey,
        event.type,
        event.state ?? null,
        event.level ?? null,
        event.message ?? null,
        event.dataJson ?? null,
        event.atMs,
      );
    },
    listEvents: (runId, options = {}) => {
      const where = ['run_id = ?'];
      const args: unknown[] = [runId];
      if (options.type !== undefined) {
        where.push('type = ?');
        args.push(options.type);
      }
      if (options.stepKey !== undefined) {
        where.push('step_key = ?');
        args.push(options.stepKey);
      }
      return (db.prepare(`SELECT * FROM engine_events WHERE ${where.join(' AND ')} ORDER BY id`).all(...args) as Row[]).map(mapEvent);
    },

    subscribe: (runId, name, matchJson, nowMs) => {
      sql(
        `INSERT INTO engine_subscriptions (run_id, name, match, created_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (run_id, name) DO UPDATE SET match = excluded.match`,
      ).run(runId, name, matchJson, nowMs);
    },
    deliverEvent: (name, payloadJson, nowMs) => deliver.immediate(name, payloadJson, nowMs),
    deliverSignal: (runId, name, payloadJson, nowMs) => {
      const live = sql(`SELECT 1 FROM engine_runs WHERE id = ? AND state NOT IN ${TERMINAL_SQL}`).get(runId);
      if (live === undefined) return false;
      sql(`INSERT INTO engine_inbox (run_id, kind, name, payload, delivered_ms) VALUES (?, 'signal', ?, ?, ?)`).run(runId, name, payloadJson, nowMs);
      sql(wakeSql).run(nowMs, runId);
      return true;
    },
    consumeInbox: (runId, kind, name, stepKey, accept) => consume.immediate(runId, kind, name, stepKey, accept),

    getCache: (cacheKey, nowMs) => {
      const row = sql('SELECT output FROM engine_cache WHERE cache_key = ? AND (expires_ms IS NULL OR expires_ms > ?)').get(cacheKey, nowMs) as Row | undefined;
      return row === undefined ? undefined : { outputJson: (row.output as string | null) ?? null };
    },
    putCache: (cacheKey, outputJson, nowMs, expiresMs) => {
      sql(
        `INSERT INTO engine_cache (cache_key, output, created_ms, expires_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (cache_key) DO UPDATE SET output = excluded.output, created_ms = excluded.created_ms, expires_ms = excluded.expires_ms`,
      ).run(cacheKey, outputJson, nowMs, expiresMs);
    },
  });
}
