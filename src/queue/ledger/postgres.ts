import type { PostgresStore } from '../../store/store.js';
import { DEFAULT_DEAD_LETTER_PAGE, rowToDeadLetter, type BrokerLedger, type DeadLetterRow, type DedupClaim } from './ledger.js';

/** The broker ledger on PostgreSQL. Batch operations are single statements over `unnest` arrays. */
export function createPostgresLedger(store: PostgresStore): BrokerLedger {
  const pool = store.pool;

  async function claimOnce(provider: string, queue: string, claims: readonly DedupClaim[]): Promise<Map<string, string | null>> {
    // The join reads the statement's snapshot, which does not see rows the INSERT adds: a key that
    // was inserted shows no holder, a key that conflicted shows the committed holder.
    const { rows } = await pool.query<{ key: string; inserted: boolean; holder: string | null }>(
      `WITH input AS (SELECT * FROM unnest($3::text[], $4::text[]) AS t(key, job_id)),
       ins AS (
         INSERT INTO broker_dedup_keys (provider, queue, dedup_key, job_id, created_at_ms)
         SELECT $1, $2, key, job_id, $5 FROM input ON CONFLICT DO NOTHING RETURNING dedup_key)
       SELECT i.key, (ins.dedup_key IS NOT NULL) AS inserted, d.job_id AS holder
       FROM input i
       LEFT JOIN ins ON ins.dedup_key = i.key
       LEFT JOIN broker_dedup_keys d ON d.provider = $1 AND d.queue = $2 AND d.dedup_key = i.key`,
      [provider, queue, claims.map((c) => c.key), claims.map((c) => c.jobId), Date.now()],
    );
    const result = new Map<string, string | null>();
    for (const row of rows) {
      if (row.inserted) result.set(row.key, null);
      else if (row.holder !== null) result.set(row.key, row.holder);
      // Neither inserted nor visible: a concurrent transaction committed it after our snapshot; ask again.
    }
    return result;
  }

  return {
    async putDeadLetter(provider, letter) {
      await pool.query(
        `INSERT INTO broker_dead_letters (provider, queue, job_id, job, error, dead_at_ms) VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (provider, queue, job_id) DO UPDATE SET job = excluded.job, error = excluded.error, dead_at_ms = excluded.dead_at_ms`,
        [provider, letter.job.queue, letter.job.id, JSON.stringify(letter.job), letter.error, letter.deadAtMs],
      );
    },
    async getDeadLetter(provider, queue, jobId) {
      const { rows } = await pool.query<DeadLetterRow>(
        'SELECT job, error, dead_at_ms FROM broker_dead_letters WHERE provider = $1 AND queue = $2 AND job_id = $3',
        [provider, queue, jobId],
      );
      const row = rows[0];
      return row === undefined ? null : rowToDeadLetter(row);
    },
    async listDeadLetters(provider, queue, options = {}) {
      const { rows } = await pool.query<DeadLetterRow>(
        `SELECT job, error, dead_at_ms FROM broker_dead_letters WHERE provider = $1 AND queue = $2
         ORDER BY dead_at_ms, job_id LIMIT $3 OFFSET $4`,
        [provider, queue, options.limit ?? DEFAULT_DEAD_LETTER_PAGE, options.offset ?? 0],
      );
      return rows.map(rowToDeadLetter);
    },
    async takeDeadLetters(provider, queue, ids) {
      const { rows } =
        ids === undefined
          ? await pool.query<DeadLetterRow>(
              'DELETE FROM broker_dead_letters WHERE provider = $1 AND queue = $2 RETURNING job, error, dead_at_ms',
              [provider, queue],
            )
          : await pool.query<DeadLetterRow>(
              `DELETE FROM broker_dead_letters WHERE provider = $1 AND queue = $2 AND job_id = ANY($3::text[])
               RETURNING job, error, dead_at_ms`,
              [provider, queue, [...ids]],
            );
      return rows.map(rowToDeadLetter);
    },
    async countDeadLetters(provider, queue) {
      const { rows } = await pool.query<{ n: string }>(
        'SELECT COUNT(*) AS n FROM broker_dead_letters WHERE provider = $1 AND queue = $2',
        [provider, queue],
      );
      return Number(rows[0]?.n ?? 0);
    },
    async claimDedupKeys(provider, queue, claims) {
      if (claims.length === 0) return [];
      // One key claimed twice in one batch: the first claim decides; resolve the rest locally.
      const firstByKey = new Map<string, DedupClaim>();
      for (const claim of claims) if (!firstByKey.has(claim.key)) firstByKey.set(claim.key, claim);
      const outcome = new Map<string, string | null>();
      let pending = [...firstByKey.values()];
      for (let round = 0; pending.length > 0 && round < 5; round += 1) {
        const answered = await claimOnce(provider, queue, pending);
        for (const [key, holder] of answered) outcome.set(key, holder);
        pending = pending.filter((c) => !answered.has(c.key));
      }
      return claims.map(({ key }, index) => {
        const first = firstByKey.get(key)!;
        const holder = outcome.get(key) ?? null;
        // A later claim of a key in the same batch is held by the first claim's job at least.
        return claims.indexOf(first) === index ? holder : (holder ?? first.jobId);
      });
    },
    async releaseDedupKeys(provider, queue, claims) {
      if (claims.length === 0) return;
      await pool.query(
        `DELETE FROM broker_dedup_keys d USING unnest($3::text[], $4::text[]) AS t(key, job_id)
         WHERE d.provider = $1 AND d.queue = $2 AND d.dedup_key = t.key AND d.job_id = t.job_id`,
        [provider, queue, claims.map((c) => c.key), claims.map((c) => c.jobId)],
      );
    },
    async dropQueue(provider, queue) {
      await pool.query('DELETE FROM broker_dead_letters WHERE provider = $1 AND queue = $2', [provider, queue]);
      await pool.query('DELETE FROM broker_dedup_keys WHERE provider = $1 AND queue = $2', [provider, queue]);
    },
  };
}
