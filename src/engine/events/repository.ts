import { fromJson, toBoolean, toNumber, toNumberOrNull, type Sql } from '../deployments/sql.js';
import type { MetricTriggerState } from './metric-trigger.js';

export interface StoredEvent {
  id: number;
  name: string;
  payload: unknown;
  emittedAtMs: number;
  deploymentsStarted: number;
  runsDelivered: number;
}

interface EventRow {
  id: unknown;
  name: string;
  payload: unknown;
  emitted_at_ms: unknown;
  deployments_started: unknown;
  runs_delivered: unknown;
}

/** SQL for `kairos_events` and `metric_trigger_state`. */
export function createEventRepository(sql: Sql) {
  return {
    async insert(name: string, payload: unknown, emittedAtMs: number): Promise<number> {
      const row = await sql.get<{ id: unknown }>('INSERT INTO kairos_events (name, payload, emitted_at_ms) VALUES (?, ?, ?) RETURNING id', [
        name,
        // Stored as JSON text in both dialects' columns; a scalar payload is wrapped by JSON.stringify.
        payload === undefined ? null : JSON.stringify(payload),
        emittedAtMs,
      ]);
      return toNumber(row?.id);
    },
    async recordOutcome(id: number, deploymentsStarted: number, runsDelivered: number): Promise<void> {
      await sql.run('UPDATE kairos_events SET deployments_started = ?, runs_delivered = ? WHERE id = ?', [deploymentsStarted, runsDelivered, id]);
    },
    async list(options: { name?: string; limit?: number } = {}): Promise<StoredEvent[]> {
      const rows = await sql.all<EventRow>(
        `SELECT id, name, payload, emitted_at_ms, deployments_started, runs_delivered FROM kairos_events
         ${options.name === undefined ? '' : 'WHERE name = ?'} ORDER BY id DESC LIMIT ?`,
        options.name === undefined ? [options.limit ?? 100] : [options.name, options.limit ?? 100],
      );
      return rows.map((r) => ({
        id: toNumber(r.id),
        name: r.name,
        // pg parses JSONB; SQLite returns the JSON text.
        payload: sql.dialect === 'postgres' ? r.payload : fromJson(r.payload),
        emittedAtMs: toNumber(r.emitted_at_ms),
        deploymentsStarted: toNumber(r.deployments_started),
        runsDelivered: toNumber(r.runs_delivered),
      }));
    },
    async metricState(deploymentId: string): Promise<{ version: number; state: MetricTriggerState } | undefined> {
      const row = await sql.get<Record<string, unknown>>(
        `SELECT version, episode_since_ms, last_true_ms, last_value, last_sample_ms, fired_in_episode, last_fired_ms
         FROM metric_trigger_state WHERE deployment_id = ?`,
        [deploymentId],
      );
      if (row === undefined) return undefined;
      return {
        version: toNumber(row.version),
        state: {
          episodeSinceMs: toNumberOrNull(row.episode_since_ms),
          lastTrueMs: toNumberOrNull(row.last_true_ms),
          lastValue: toNumberOrNull(row.last_value),
          lastSampleMs: toNumberOrNull(row.last_sample_ms),
          firedInEpisode: toBoolean(row.fired_in_episode),
          lastFiredMs: toNumberOrNull(row.last_fired_ms),
        },
      };
    },
    /**
     * Writes the state if nobody else wrote since `version` was read (optimistic: two processes
     * recording samples at once re-read and re-apply rather than overwrite each other).
     */
    async saveMetricState(deploymentId: string, version: number | null, state: MetricTriggerState): Promise<boolean> {
      const values = [state.episodeSinceMs, state.lastTrueMs, state.lastValue, state.lastSampleMs, state.firedInEpisode, state.lastFiredMs];
      if (version === null) {
        return (
          (await sql.run(
            `INSERT INTO metric_trigger_state (deployment_id, version, episode_since_ms, last_true_ms, last_value, last_sample_ms,
               fired_in_episode, last_fired_ms) VALUES (?, 1, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
            [deploymentId, ...values],
          )) > 0
        );
      }
      return (
        (await sql.run(
          `UPDATE metric_trigger_state SET version = version + 1, episode_since_ms = ?, last_true_ms = ?, last_value = ?,
             last_sample_ms = ?, fired_in_episode = ?, last_fired_ms = ? WHERE deployment_id = ? AND version = ?`,
          [...values, deploymentId, version],
        )) > 0
      );
    },
  };
}
export type EventRepository = ReturnType<typeof createEventRepository>;
