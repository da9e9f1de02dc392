import { randomUUID } from 'node:crypto';
import type { RunFinishedEvent, RunLauncher, RunTarget } from '../../../../src/engine/deployments/launcher.js';
import { createSql, toNumber, type Sql } from '../../../../src/engine/deployments/sql.js';
import type { Store } from '../../../../src/store/store.js';

export interface LaunchedRun {
  id: string;
  idempotencyKey: string;
  deploymentId: string;
  targetName: string;
  params: unknown;
  state: string;
  scheduledMs: number;
  createdAtMs: number;
}

/**
 * A small real RunLauncher for tests that do not need the engine: runs are rows in a table of the
 * store (unique idempotency key, state), so several schedulers sharing a store share its runs; a
 * test finishes a run with `finish(runId)`. It records when each run was created (wall clock), which
 * the HA tests use to measure lateness.
 */
export class StoreLauncher implements RunLauncher {
  private readonly sql: Sql;
  private readonly listeners = new Set<(e: RunFinishedEvent) => void>();

  private constructor(store: Store, private readonly nowMs: () => number) {
    this.sql = createSql(store);
  }

  static async create(store: Store, nowMs: () => number = Date.now): Promise<StoreLauncher> {
    const launcher = new StoreLauncher(store, nowMs);
    const bigint = store.dialect === 'postgres' ? 'BIGINT' : 'INTEGER';
    await launcher.sql.run(`CREATE TABLE IF NOT EXISTS test_launcher_runs (
      id TEXT PRIMARY KEY, idempotency_key TEXT NOT NULL UNIQUE, deployment_id TEXT NOT NULL, target_name TEXT NOT NULL,
      params TEXT, state TEXT NOT NULL, scheduled_ms ${bigint} NOT NULL, created_at_ms ${bigint} NOT NULL)`);
    return launcher;
  }

  async start(target: RunTarget, params: unknown, opts: { idempotencyKey: string; deploymentId: string; scheduledMs: number }) {
    const changed = await this.sql.run(
      `INSERT INTO test_launcher_runs (id, idempotency_key, deployment_id, target_name, params, state, scheduled_ms, created_at_ms)
       VALUES (?, ?, ?, ?, ?, 'Running', ?, ?) ON CONFLICT DO NOTHING`,
      [randomUUID(), opts.idempotencyKey, opts.deploymentId, target.name, JSON.stringify(params), opts.scheduledMs, this.nowMs()],
    );
    const row = await this.sql.get<{ id: string }>('SELECT id FROM test_launcher_runs WHERE idempotency_key = ?', [opts.idempotencyKey]);
    if (row === undefined) throw new Error('run vanished');
    return { runId: row.id, created: changed > 0 };
  }

  async activeRuns(deploymentId: string): Promise<string[]> {
    const rows = await this.sql.all<{ id: string }>(
      "SELECT id FROM test_launcher_runs WHERE deployment_id = ? AND state = 'Running' ORDER BY created_at_ms, id",
      [deploymentId],
    );
    return rows.map((r) => r.id);
  }

  async cancel(runId: string): Promise<void> {
    await this.finish(runId, 'Cancelled');
  }

  onRunFinished(listener: (e: RunFinishedEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Moves a run to a terminal state and tells the listeners. */
  async finish(runId: string, state = 'Completed'): Promise<void> {
    const changed = await this.sql.run("UPDATE test_launcher_runs SET state = ? WHERE id = ? AND state = 'Running'", [state, runId]);
    if (changed === 0) return;
    const row = await this.sql.get<{ deployment_id: string }>('SELECT deployment_id FROM test_launcher_runs WHERE id = ?', [runId]);
    for (const listener of this.listeners) listener({ runId, deploymentId: row?.deployment_id ?? null, state });
  }

  async runs(deploymentId?: string): Promise<LaunchedRun[]> {
    const rows = await this.sql.all<Record<string, unknown>>(
      `SELECT * FROM test_launcher_runs ${deploymentId === undefined ? '' : 'WHERE deployment_id = ?'} ORDER BY scheduled_ms, created_at_ms, id`,
      deploymentId === undefined ? [] : [deploymentId],
    );
    return rows.map((r) => ({
      id: String(r.id),
      idempotencyKey: String(r.idempotency_key),
      deploymentId: String(r.deployment_id),
      targetName: String(r.target_name),
      params: JSON.parse(String(r.params)) as unknown,
      state: String(r.state),
      scheduledMs: toNumber(r.scheduled_ms),
      createdAtMs: toNumber(r.created_at_ms),
    }));
  }
}
