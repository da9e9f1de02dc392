import { systemClock } from '../../core/clock.js';
import type { PostgresStore } from '../../store/store.js';
import type { HeldJobStore, Job, ProviderName } from '../contract.js';
import type { HeldJobStoreOptions } from './options.js';

/** Held jobs in the PostgreSQL store's `queue_held` table, scoped to one provider. */
export function createPostgresHeldJobStore(store: PostgresStore, options: HeldJobStoreOptions): HeldJobStore {
  const { pool } = store;
  const provider: ProviderName = options.provider;
  const claimMs = options.claimMs ?? 30_000;
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  return {
    async hold(job) {
      await pool.query(
        `INSERT INTO queue_held (id, provider, queue, job, run_at_ms, held_at_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [job.id, provider, job.queue, JSON.stringify(job), job.runAtMs, now()],
      );
    },
    async takeDue(nowMs, max) {
      // SKIP LOCKED: two dispatchers taking at once split the due rows instead of waiting on each other.
      const { rows } = await pool.query<{ job: string }>(
        `WITH due AS (
           SELECT id FROM queue_held WHERE provider = $1 AND run_at_ms <= $2 AND claim_until_ms <= $2
           ORDER BY run_at_ms LIMIT $3 FOR UPDATE SKIP LOCKED)
         UPDATE queue_held h SET claim_until_ms = $4 FROM due WHERE h.id = due.id RETURNING h.job`,
        [provider, nowMs, max, nowMs + claimMs],
      );
      return rows.map((row) => JSON.parse(row.job) as Job).sort((a, b) => a.runAtMs - b.runAtMs);
    },
    async confirmHandedOver(ids) {
      if (ids.length === 0) return;
      await pool.query(`DELETE FROM queue_held WHERE provider = $1 AND id = ANY($2::text[])`, [provider, ids]);
    },
    async nextDueMs() {
      const { rows } = await pool.query<{ due: string | null }>(
        `SELECT MIN(GREATEST(run_at_ms, claim_until_ms)) AS due FROM queue_held WHERE provider = $1`,
        [provider],
      );
      const due = rows[0]?.due ?? null;
      return due === null ? null : Number(due);
    },
    async countHeld(queue) {
      const { rows } = await pool.query<{ n: string }>(`SELECT COUNT(*) AS n FROM queue_held WHERE provider = $1 AND queue = $2`, [provider, queue]);
      return Number(rows[0]?.n ?? 0);
    },
  };
}
