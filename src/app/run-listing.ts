import { mapRun } from '../engine/store/rows.js';
import type { RunRecord } from '../engine/types.js';
import { InvalidRequestError } from '../errors.js';
import type { RunPageRequest, RunPager } from '../server/routes/lanes.js';
import type { Store } from '../store/store.js';

/**
 * Keyset pagination over `engine_runs`, newest first: a page is `WHERE (created_ms, id) < cursor
 * ORDER BY created_ms DESC, id DESC LIMIT n`, answered from one of the indexes of migration 006 — so
 * page 2 000 costs what page 1 costs, unlike OFFSET. The cursor is the last row's key, opaque to
 * clients (base64url JSON).
 */

interface Cursor {
  createdMs: number;
  id: string;
}

export function encodeCursor(run: Pick<RunRecord, 'createdMs' | 'id'>): string {
  return Buffer.from(JSON.stringify([run.createdMs, run.id]), 'utf8').toString('base64url');
}

export function decodeCursor(text: string): Cursor {
  try {
    const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(value) && value.length === 2 && Number.isSafeInteger(value[0]) && typeof value[1] === 'string' && value[1].length <= 200) {
      return { createdMs: value[0] as number, id: value[1] };
    }
  } catch {
    // fall through to the error below
  }
  throw new InvalidRequestError('query.cursor: not a cursor this API issued; pass the `nextCursor` of the previous page, or omit it.', {
    details: { field: 'cursor' },
  });
}

/** The SQL of one page, with `?` placeholders (PostgreSQL's are numbered by the caller). */
export function pageSql(request: RunPageRequest): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  if (request.kind !== undefined) {
    where.push('kind = ?');
    args.push(request.kind);
  }
  if (request.name !== undefined) {
    where.push('name = ?');
    args.push(request.name);
  }
  if (request.state !== undefined) {
    where.push('state = ?');
    args.push(request.state);
  }
  if (request.cursor !== undefined) {
    const cursor = decodeCursor(request.cursor);
    where.push('(created_ms, id) < (?, ?)');
    args.push(cursor.createdMs, cursor.id);
  }
  // One row more than asked tells whether there is a next page without a COUNT.
  args.push(request.limit + 1);
  return {
    sql: `SELECT * FROM engine_runs ${where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`} ORDER BY created_ms DESC, id DESC LIMIT ?`,
    args,
  };
}

export function createRunPager(store: Store): RunPager {
  return {
    async page(request) {
      const { sql, args } = pageSql(request);
      let rows: Record<string, unknown>[];
      if (store.dialect === 'sqlite') {
        rows = store.db.prepare(sql).all(...args) as Record<string, unknown>[];
      } else {
        let n = 0;
        rows = (await store.pool.query(sql.replace(/\?/g, () => `$${++n}`), args)).rows as Record<string, unknown>[];
      }
      const runs = rows.slice(0, request.limit).map(mapRun);
      const last = runs[runs.length - 1];
      return { runs, nextCursor: rows.length > request.limit && last !== undefined ? encodeCursor(last) : null };
    },
    async stepStates(runIds) {
      if (runIds.length === 0) return [];
      const sql = `SELECT run_id, step_key, state FROM engine_steps WHERE run_id IN (${runIds.map(() => '?').join(', ')})`;
      let rows: Array<{ run_id: string; step_key: string; state: string }>;
      if (store.dialect === 'sqlite') {
        rows = store.db.prepare(sql).all(...runIds) as typeof rows;
      } else {
        let n = 0;
        rows = (await store.pool.query(sql.replace(/\?/g, () => `$${++n}`), [...runIds])).rows as typeof rows;
      }
      return rows.map((row) => ({ runId: row.run_id, key: row.step_key, state: row.state }));
    },
  };
}
