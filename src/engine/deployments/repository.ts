import type { Sql } from './sql.js';
import { fromJson, toBoolean, toNumber, toNumberOrNull } from './sql.js';
import type { Deployment, FireOrigin, FireRecord, FireState, OverlapPolicy } from './types.js';

/** The SQL for `deployments` and `schedule_fires`; every other module goes through these functions. */

interface DeploymentRow {
  id: string;
  name: string;
  target_kind: 'flow' | 'workflow';
  target_name: string;
  schedule: unknown;
  event_trigger: unknown;
  metric_trigger: unknown;
  parameters: unknown;
  overlap: string;
  catchup_window_ms: unknown;
  max_active_runs: unknown;
  paused: unknown;
  jitter_ms: unknown;
  start_ms: unknown;
  end_ms: unknown;
  last_fire_ms: unknown;
  description: string | null;
  created_at_ms: unknown;
  updated_at_ms: unknown;
}

function toDeployment(row: DeploymentRow): Deployment {
  return {
    id: row.id,
    name: row.name,
    target: { kind: row.target_kind, name: row.target_name },
    schedule: fromJson(row.schedule),
    eventTrigger: fromJson(row.event_trigger),
    metricTrigger: fromJson(row.metric_trigger),
    parameters: fromJson<Record<string, unknown>>(row.parameters) ?? {},
    overlap: row.overlap as OverlapPolicy,
    catchupWindowMs: toNumber(row.catchup_window_ms),
    maxActiveRuns: toNumberOrNull(row.max_active_runs),
    paused: toBoolean(row.paused),
    jitterMs: toNumber(row.jitter_ms),
    startMs: toNumberOrNull(row.start_ms),
    endMs: toNumberOrNull(row.end_ms),
    lastFireMs: toNumber(row.last_fire_ms),
    description: row.description,
    createdAtMs: toNumber(row.created_at_ms),
    updatedAtMs: toNumber(row.updated_at_ms),
  };
}

const COLUMNS =
  'id, name, target_kind, target_name, schedule, event_trigger, metric_trigger, parameters, overlap, catchup_window_ms, ' +
  'max_active_runs, paused, jitter_ms, start_ms, end_ms, last_fire_ms, description, created_at_ms, updated_at_ms';

function values(d: Deployment): unknown[] {
  return [
    d.id, d.name, d.target.kind, d.target.name, d.schedule, d.eventTrigger, d.metricTrigger, d.parameters, d.overlap,
    d.catchupWindowMs, d.maxActiveRuns, d.paused, d.jitterMs, d.startMs, d.endMs, d.lastFireMs, d.description,
    d.createdAtMs, d.updatedAtMs,
  ];
}

export function createDeploymentRepository(sql: Sql) {
  return {
    async insert(deployment: Deployment): Promise<void> {
      await sql.run(`INSERT INTO deployments (${COLUMNS}) VALUES (${COLUMNS.split(',').map(() => '?').join(', ')})`, values(deployment));
    },
    /** Replaces every column but the id, the name and the creation time. */
    async replace(deployment: Deployment): Promise<void> {
      await sql.run(
        `UPDATE deployments SET target_kind = ?, target_name = ?, schedule = ?, event_trigger = ?, metric_trigger = ?,
           parameters = ?, overlap = ?, catchup_window_ms = ?, max_active_runs = ?, paused = ?, jitter_ms = ?, start_ms = ?,
           end_ms = ?, last_fire_ms = ?, description = ?, updated_at_ms = ? WHERE id = ?`,
        [...values(deployment).slice(2, 17), deployment.updatedAtMs, deployment.id],
      );
    },
    async getByName(name: string): Promise<Deployment | undefined> {
      const row = await sql.get<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments WHERE name = ?`, [name]);
      return row === undefined ? undefined : toDeployment(row);
    },
    async getById(id: string): Promise<Deployment | undefined> {
      const row = await sql.get<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments WHERE id = ?`, [id]);
      return row === undefined ? undefined : toDeployment(row);
    },
    async list(): Promise<Deployment[]> {
      return (await sql.all<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments ORDER BY name`)).map(toDeployment);
    },
    /** Deployments the scheduler must look at: not paused, with a schedule. */
    async listScheduled(): Promise<Deployment[]> {
      const paused = sql.dialect === 'postgres' ? 'FALSE' : '0';
      return (
        await sql.all<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments WHERE paused = ${paused} AND schedule IS NOT NULL ORDER BY id`)
      ).map(toDeployment);
    },
    async listByEvent(event: string): Promise<Deployment[]> {
      const rows = await sql.all<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments WHERE event_trigger IS NOT NULL ORDER BY name`);
      return rows.map(toDeployment).filter((d) => d.eventTrigger?.event === event);
    },
    async listByMetric(metric: string): Promise<Deployment[]> {
      const rows = await sql.all<DeploymentRow>(`SELECT ${COLUMNS} FROM deployments WHERE metric_trigger IS NOT NULL ORDER BY name`);
      return rows.map(toDeployment).filter((d) => d.metricTrigger?.metric === metric);
    },
    async delete(id: string): Promise<boolean> {
      return (await sql.run('DELETE FROM deployments WHERE id = ?', [id])) > 0;
    },
    async setPaused(id: string, paused: boolean, nowMs: number, lastFireMs?: number): Promise<void> {
      if (lastFireMs === undefined) {
        await sql.run('UPDATE deployments SET paused = ?, updated_at_ms = ? WHERE id = ?', [paused, nowMs, id]);
      } else {
        await sql.run('UPDATE deployments SET paused = ?, updated_at_ms = ?, last_fire_ms = ? WHERE id = ?', [paused, nowMs, lastFireMs, id]);
      }
    },
    /** Moves the cursor forward only: two schedulers racing never move it back. */
    async advanceCursor(id: string, fireMs: number): Promise<void> {
      await sql.run('UPDATE deployments SET last_fire_ms = ? WHERE id = ? AND last_fire_ms < ?', [fireMs, id, fireMs]);
    },
  };
}
export type DeploymentRepository = ReturnType<typeof createDeploymentRepository>;

interface FireRow {
  fire_key: string;
  deployment_id: string;
  fire_ms: unknown;
  origin: FireOrigin;
  state: FireState;
  run_id: string | null;
  reason: string | null;
  parameters: unknown;
  recorded_at_ms: unknown;
  started_at_ms: unknown;
  scheduler_id: string | null;
}

export interface StoredFire extends FireRecord {
  /** Parameters for this fire when they differ from the deployment's (trigger-now overrides, event payloads). */
  parameters: Record<string, unknown> | null;
}

function toFire(row: FireRow): StoredFire {
  return {
    fireKey: row.fire_key,
    deploymentId: row.deployment_id,
    fireMs: toNumber(row.fire_ms),
    origin: row.origin,
    state: row.state,
    runId: row.run_id,
    reason: row.reason,
    parameters: fromJson(row.parameters),
    recordedAtMs: toNumber(row.recorded_at_ms),
    startedAtMs: toNumberOrNull(row.started_at_ms),
    schedulerId: row.scheduler_id,
  };
}

const FIRE_COLUMNS = 'fire_key, deployment_id, fire_ms, origin, state, run_id, reason, parameters, recorded_at_ms, started_at_ms, scheduler_id';

export function createFireRepository(sql: Sql) {
  return {
    /**
     * Records a fire unless its key (or, for schedule and backfill fires, its tick) is already
     * recorded. Returns whether this call recorded it — only then may the caller act on it.
     */
    async tryInsert(fire: StoredFire): Promise<boolean> {
      const changed = await sql.run(
        `INSERT INTO schedule_fires (${FIRE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        [
          fire.fireKey, fire.deploymentId, fire.fireMs, fire.origin, fire.state, fire.runId, fire.reason, fire.parameters,
          fire.recordedAtMs, fire.startedAtMs, fire.schedulerId,
        ],
      );
      return changed > 0;
    },
    /**
     * `tryInsert` and `listBuffered(fire.deploymentId)` in one round trip on PostgreSQL (a fire on
     * the scheduler's hot path needs both): whether this call recorded the fire, and the
     * deployment's buffered fires, oldest first. SQLite has no data-modifying CTE; there it is two
     * statements on the same synchronous connection, just as cheap.
     */
    async tryInsertListingBuffered(fire: StoredFire): Promise<{ inserted: boolean; buffered: StoredFire[] }> {
      if (sql.dialect === 'sqlite') return { inserted: await this.tryInsert(fire), buffered: await this.listBuffered(fire.deploymentId) };
      const rows = await sql.all<FireRow & { inserted_count: unknown }>(
        `WITH ins AS (INSERT INTO schedule_fires (${FIRE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING 1)
         SELECT (SELECT count(*) FROM ins) AS inserted_count, f.* FROM (SELECT 1 AS one) x
         LEFT JOIN (SELECT ${FIRE_COLUMNS} FROM schedule_fires WHERE deployment_id = ? AND state = 'Buffered') f ON TRUE
         ORDER BY f.fire_ms, f.fire_key`,
        [
          fire.fireKey, fire.deploymentId, fire.fireMs, fire.origin, fire.state, fire.runId, fire.reason, fire.parameters,
          fire.recordedAtMs, fire.startedAtMs, fire.schedulerId, fire.deploymentId,
        ],
      );
      return {
        inserted: toNumber(rows[0]?.inserted_count ?? 0) > 0,
        buffered: rows.filter((row) => row.fire_key !== null).map(toFire),
      };
    },
    async markStarted(fireKey: string, runId: string, startedAtMs: number, reason: string | null = null): Promise<void> {
      await sql.run("UPDATE schedule_fires SET state = 'Started', run_id = ?, started_at_ms = ?, reason = ? WHERE fire_key = ?", [
        runId, startedAtMs, reason, fireKey,
      ]);
    },
    /** Moves a fire from one state to another; false when it was not in `from` (someone else moved it). */
    async transition(fireKey: string, from: FireState, to: FireState, reason: string | null, schedulerId?: string): Promise<boolean> {
      const changed = await sql.run(
        'UPDATE schedule_fires SET state = ?, reason = ?, scheduler_id = COALESCE(?, scheduler_id) WHERE fire_key = ? AND state = ?',
        [to, reason, schedulerId ?? null, fireKey, from],
      );
      return changed > 0;
    },
    async listBuffered(deploymentId: string): Promise<StoredFire[]> {
      const rows = await sql.all<FireRow>(
        `SELECT ${FIRE_COLUMNS} FROM schedule_fires WHERE deployment_id = ? AND state = 'Buffered' ORDER BY fire_ms, fire_key`,
        [deploymentId],
      );
      return rows.map(toFire);
    },
    async deploymentsWithBuffered(): Promise<string[]> {
      const rows = await sql.all<{ deployment_id: string }>("SELECT DISTINCT deployment_id FROM schedule_fires WHERE state = 'Buffered'");
      return rows.map((r) => r.deployment_id);
    },
    /** Fires recorded but not started before `beforeMs` — their scheduler died between the two. */
    async stalePending(beforeMs: number): Promise<StoredFire[]> {
      const rows = await sql.all<FireRow>(
        `SELECT ${FIRE_COLUMNS} FROM schedule_fires WHERE state = 'Pending' AND recorded_at_ms < ? ORDER BY fire_ms`,
        [beforeMs],
      );
      return rows.map(toFire);
    },
    async get(fireKey: string): Promise<StoredFire | undefined> {
      const row = await sql.get<FireRow>(`SELECT ${FIRE_COLUMNS} FROM schedule_fires WHERE fire_key = ?`, [fireKey]);
      return row === undefined ? undefined : toFire(row);
    },
    async list(deploymentId: string, options: { limit?: number; fromMs?: number; toMs?: number } = {}): Promise<StoredFire[]> {
      const rows = await sql.all<FireRow>(
        `SELECT ${FIRE_COLUMNS} FROM schedule_fires WHERE deployment_id = ? AND fire_ms >= ? AND fire_ms <= ?
         ORDER BY fire_ms DESC, fire_key LIMIT ?`,
        [deploymentId, options.fromMs ?? Number.MIN_SAFE_INTEGER, options.toMs ?? Number.MAX_SAFE_INTEGER, options.limit ?? 100],
      );
      return rows.map(toFire);
    },
  };
}
export type FireRepository = ReturnType<typeof createFireRepository>;
