import type { SqliteStore } from '../../store/store.js';
import type { DeadLetter } from '../contract.js';
import { DEFAULT_DEAD_LETTER_PAGE, rowToDeadLetter, type BrokerLedger, type DeadLetterRow, type DedupClaim } from './ledger.js';

/** The broker ledger on the embedded SQLite store. better-sqlite3 is synchronous; the API stays async for parity with PostgreSQL. */
export function createSqliteLedger(store: SqliteStore): BrokerLedger {
  const db = store.db;
  const put = db.prepare(
    `INSERT INTO broker_dead_letters (provider, queue, job_id, job, error, dead_at_ms) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (provider, queue, job_id) DO UPDATE SET job = excluded.job, error = excluded.error, dead_at_ms = excluded.dead_at_ms`,
  );
  const getOne = db.prepare('SELECT job, error, dead_at_ms FROM broker_dead_letters WHERE provider = ? AND queue = ? AND job_id = ?');
  const list = db.prepare(
    'SELECT job, error, dead_at_ms FROM broker_dead_letters WHERE provider = ? AND queue = ? ORDER BY dead_at_ms, job_id LIMIT ? OFFSET ?',
  );
  const listAll = db.prepare('SELECT job_id, job, error, dead_at_ms FROM broker_dead_letters WHERE provider = ? AND queue = ?');
  const deleteOne = db.prepare('DELETE FROM broker_dead_letters WHERE provider = ? AND queue = ? AND job_id = ?');
  const deleteAll = db.prepare('DELETE FROM broker_dead_letters WHERE provider = ? AND queue = ?');
  const count = db.prepare('SELECT COUNT(*) AS n FROM broker_dead_letters WHERE provider = ? AND queue = ?');
  const insertKey = db.prepare(
    'INSERT INTO broker_dedup_keys (provider, queue, dedup_key, job_id, created_at_ms) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const holder = db.prepare('SELECT job_id FROM broker_dedup_keys WHERE provider = ? AND queue = ? AND dedup_key = ?');
  const releaseKey = db.prepare('DELETE FROM broker_dedup_keys WHERE provider = ? AND queue = ? AND dedup_key = ? AND job_id = ?');
  const dropKeys = db.prepare('DELETE FROM broker_dedup_keys WHERE provider = ? AND queue = ?');

  const take = db.transaction((provider: string, queue: string, ids?: readonly string[]): DeadLetter[] => {
    if (ids === undefined) {
      const rows = listAll.all(provider, queue) as DeadLetterRow[];
      deleteAll.run(provider, queue);
      return rows.map(rowToDeadLetter);
    }
    const taken: DeadLetter[] = [];
    for (const id of ids) {
      const row = getOne.get(provider, queue, id) as DeadLetterRow | undefined;
      if (row === undefined) continue;
      deleteOne.run(provider, queue, id);
      taken.push(rowToDeadLetter(row));
    }
    return taken;
  });
  const claim = db.transaction((provider: string, queue: string, claims: readonly DedupClaim[]): (string | null)[] => {
    const now = Date.now();
    return claims.map(({ key, jobId }) => {
      if (insertKey.run(provider, queue, key, jobId, now).changes === 1) return null;
      const row = holder.get(provider, queue, key) as { job_id: string } | undefined;
      return row === undefined ? null : row.job_id;
    });
  });
  const release = db.transaction((provider: string, queue: string, claims: readonly DedupClaim[]) => {
    for (const { key, jobId } of claims) releaseKey.run(provider, queue, key, jobId);
  });

  return {
    putDeadLetter: (provider, letter) => {
      put.run(provider, letter.job.queue, letter.job.id, JSON.stringify(letter.job), letter.error, letter.deadAtMs);
      return Promise.resolve();
    },
    getDeadLetter: (provider, queue, jobId) => {
      const row = getOne.get(provider, queue, jobId) as DeadLetterRow | undefined;
      return Promise.resolve(row === undefined ? null : rowToDeadLetter(row));
    },
    listDeadLetters: (provider, queue, options = {}) => {
      const rows = list.all(provider, queue, options.limit ?? DEFAULT_DEAD_LETTER_PAGE, options.offset ?? 0) as DeadLetterRow[];
      return Promise.resolve(rows.map(rowToDeadLetter));
    },
    takeDeadLetters: (provider, queue, ids) => Promise.resolve(take(provider, queue, ids)),
    countDeadLetters: (provider, queue) => Promise.resolve((count.get(provider, queue) as { n: number }).n),
    claimDedupKeys: (provider, queue, claims) => Promise.resolve(claims.length === 0 ? [] : claim(provider, queue, claims)),
    releaseDedupKeys: (provider, queue, claims) => {
      if (claims.length > 0) release(provider, queue, claims);
      return Promise.resolve();
    },
    dropQueue: (provider, queue) => {
      deleteAll.run(provider, queue);
      dropKeys.run(provider, queue);
      return Promise.resolve();
    },
  };
}
