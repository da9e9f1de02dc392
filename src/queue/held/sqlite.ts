import { systemClock } from '../../core/clock.js';
import type { SqliteStore } from '../../store/store.js';
import type { HeldJobStore, Job, ProviderName } from '../contract.js';
import type { HeldJobStoreOptions } from './options.js';

/** Held jobs in the SQLite store's `queue_held` table, scoped to one provider. */
export function createSqliteHeldJobStore(store: SqliteStore, options: HeldJobStoreOptions): HeldJobStore {
  const { db } = store;
  const provider: ProviderName = options.provider;
  const claimMs = options.claimMs ?? 30_000;
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const sql = {
    hold: db.prepare(
      `INSERT OR IGNORE INTO queue_held (id, provider, queue, job, run_at_ms, held_at_ms) VALUES (?, ?, ?, ?, ?, ?)`,
    ),
    take: db.prepare(
      `UPDATE queue_held SET claim_until_ms = @until
       WHERE id IN (SELECT id FROM queue_held WHERE provider = @provider AND run_at_ms <= @now AND claim_until_ms <= @now
                    ORDER BY run_at_ms LIMIT @max)
       RETURNING job`,
    ),
    confirm: db.prepare(`DELETE FROM queue_held WHERE provider = ? AND id = ?`),
    nextDue: db.prepare(`SELECT MIN(MAX(run_at_ms, claim_until_ms)) AS due FROM queue_held WHERE provider = ?`),
    count: db.prepare(`SELECT COUNT(*) AS n FROM queue_held WHERE provider = ? AND queue = ?`),
  };
  const confirmTx = db.transaction((ids: readonly string[]) => {
    for (const id of ids) sql.confirm.run(provider, id);
  });
  const takeTx = db.transaction((nowMs: number, max: number) =>
    (sql.take.all({ provider, now: nowMs, max, until: nowMs + claimMs }) as { job: string }[]).map((row) => JSON.parse(row.job) as Job),
  );
  const run = <T>(operation: () => T): Promise<T> => {
    try {
      return Promise.resolve(operation());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  };
  return {
    hold: (job) => run(() => void sql.hold.run(job.id, provider, job.queue, JSON.stringify(job), job.runAtMs, now())),
    takeDue: (nowMs, max) => run(() => takeTx.immediate(nowMs, max).sort((a, b) => a.runAtMs - b.runAtMs)),
    confirmHandedOver: (ids) => run(() => confirmTx.immediate(ids)),
    nextDueMs: () => run(() => (sql.nextDue.get(provider) as { due: number | null }).due),
    countHeld: (queue) => run(() => (sql.count.get(provider, queue) as { n: number }).n),
  };
}
