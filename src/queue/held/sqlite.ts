import { systemClock } from '../../core/clock.js';
import type { SqliteStore } from '../../store/store.js';
import type { HeldJob, HeldJobStore, Job, ProviderName } from '../contract.js';
import type { HeldJobStoreOptions } from './options.js';

/** Held jobs in the SQLite store's `queue_held` table, scoped to one provider. See HeldJobStore for the row's life. */
export function createSqliteHeldJobStore(store: SqliteStore, options: HeldJobStoreOptions): HeldJobStore {
  const { db } = store;
  const provider: ProviderName = options.provider;
  const claimMs = options.claimMs ?? 30_000;
  const clock = options.clock ?? systemClock;
  const sql = {
    // Replaces only a row that was taken or pinned (claim_until_ms > 0): that is this job coming back.
    hold: db.prepare(
      `INSERT INTO queue_held (id, provider, queue, job, run_at_ms, held_at_ms, claim_until_ms, generation)
       VALUES (@id, @provider, @queue, @job, @runAtMs, @nowMs, @claimUntilMs, 1)
       ON CONFLICT (id) DO UPDATE SET provider = excluded.provider, queue = excluded.queue, job = excluded.job,
         run_at_ms = excluded.run_at_ms, held_at_ms = excluded.held_at_ms, claim_until_ms = excluded.claim_until_ms,
         generation = queue_held.generation + 1
       WHERE queue_held.claim_until_ms > 0
       RETURNING generation`,
    ),
    release: db.prepare(
      `UPDATE queue_held SET claim_until_ms = 0, generation = generation + 1 WHERE provider = ? AND id = ? AND generation = ?`,
    ),
    take: db.prepare(
      `UPDATE queue_held SET claim_until_ms = @until, generation = generation + 1
       WHERE id IN (SELECT id FROM queue_held WHERE provider = @provider AND run_at_ms <= @now AND claim_until_ms <= @now
                    ORDER BY run_at_ms LIMIT @max)
       RETURNING job, generation`,
    ),
    confirm: db.prepare(`DELETE FROM queue_held WHERE provider = ? AND id = ? AND generation = ?`),
    nextDue: db.prepare(`SELECT MIN(MAX(run_at_ms, claim_until_ms)) AS due FROM queue_held WHERE provider = ?`),
    count: db.prepare(`SELECT COUNT(*) AS n FROM queue_held WHERE provider = ? AND queue = ?`),
  };
  const confirmTx = db.transaction((taken: readonly HeldJob[]) => {
    for (const held of taken) sql.confirm.run(provider, held.job.id, held.generation);
  });
  const takeTx = db.transaction((nowMs: number, max: number) =>
    (sql.take.all({ provider, now: nowMs, max, until: nowMs + claimMs }) as { job: string; generation: number }[]).map(
      (row): HeldJob => ({ job: JSON.parse(row.job) as Job, generation: row.generation }),
    ),
  );
  const run = <T>(operation: () => T): Promise<T> => {
    try {
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
  return {
    hold: (job, holdOptions) =>
      run(() => {
        const nowMs = clock.now();
        const row = sql.hold.get({
          id: job.id,
          provider,
          queue: job.queue,
          job: JSON.stringify(job),
          runAtMs: job.runAtMs,
          nowMs,
          claimUntilMs: holdOptions?.pinned === true ? nowMs + claimMs : 0,
        }) as { generation: number } | undefined;
        return row === undefined ? null : { job, generation: row.generation };
      }),
    release: (held) => run(() => void sql.release.run(provider, held.job.id, held.generation)),
    takeDue: (nowMs, max) => run(() => takeTx.immediate(nowMs, max).sort((a, b) => a.job.runAtMs - b.job.runAtMs)),
    confirmHandedOver: (taken) => run(() => confirmTx.immediate(taken)),
    nextDueMs: () => run(() => (sql.nextDue.get(provider) as { due: number | null }).due),
    countHeld: (queue) => run(() => (sql.count.get(provider, queue) as { n: number }).n),
  };
}
