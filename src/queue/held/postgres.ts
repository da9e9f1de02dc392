import { systemClock } from '../../core/clock.js';
import type { PostgresStore } from '../../store/store.js';
import type { HeldJob, HeldJobStore, Job, ProviderName } from '../contract.js';
import type { HeldJobStoreOptions } from './options.js';

/** Held jobs in the PostgreSQL store's `queue_held` table, scoped to one provider. See HeldJobStore for the row's life. */
export function createPostgresHeldJobStore(store: PostgresStore, options: HeldJobStoreOptions): HeldJobStore {
  const { pool } = store;
  const provider: ProviderName = options.provider;
  const claimMs = options.claimMs ?? 30_000;
  const clock = options.clock ?? systemClock;
  return {
    async hold(job, holdOptions) {
      const nowMs = clock.now();
      // Replaces only a row that was taken or pinned (claim_until_ms > 0): that is this job coming back.
      const { rows } = await pool.query<{ generation: string }>(
        `INSERT INTO queue_held (id, provider, queue, job, run_at_ms, held_at_ms, claim_until_ms, generation)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1)
         ON CONFLICT (id) DO UPDATE SET provider = excluded.provider, queue = excluded.queue, job = excluded.job,
           run_at_ms = excluded.run_at_ms, held_at_ms = excluded.held_at_ms, claim_until_ms = excluded.claim_until_ms,
           generation = queue_held.generation + 1
         WHERE queue_held.claim_until_ms > 0
         RETURNING generation`,
        [job.id, provider, job.queue, JSON.stringify(job), job.runAtMs, nowMs, holdOptions?.pinned === true ? nowMs + claimMs : 0],
      );
      const row = rows[0];
      return row === undefined ? null : { job, generation: Number(row.generation) };
    },
    async release(held) {
      await pool.query(
        `UPDATE queue_held SET claim_until_ms = 0, generation = generation + 1 WHERE provider = $1 AND id = $2 AND generation = $3`,
        [provider, held.job.id, held.generation],
      );
    },
    async takeDue(nowMs, max) {
      // SKIP LOCKED: two dispatchers taking at once split the due rows instead of waiting on each other.
      const { rows } = await pool.query<{ job: string; generation: string }>(
        `WITH due AS (
           SELECT id FROM queue_held WHERE provider = $1 AND run_at_ms <= $2 AND claim_until_ms <= $2
           ORDER BY run_at_ms LIMIT $3 FOR UPDATE SKIP LOCKED)
         UPDATE queue_held h SET claim_until_ms = $4, generation = h.generation + 1 FROM due WHERE h.id = due.id
         RETURNING h.job, h.generation`,
        [provider, nowMs, max, nowMs + claimMs],
      );
      return rows
        .map((row): HeldJob => ({ job: JSON.parse(row.job) as Job, generation: Number(row.generation) }))
        .sort((a, b) => a.job.runAtMs - b.job.runAtMs);
    },
    async confirmHandedOver(taken) {
      if (taken.length === 0) return;
      await pool.query(
        `DELETE FROM queue_held h USING unnest($2::text[], $3::bigint[]) AS c(id, generation)
         WHERE h.provider = $1 AND h.id = c.id AND h.generation = c.generation`,
        [provider, taken.map((held) => held.job.id), taken.map((held) => held.generation)],
      );
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
