import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { JobHandler } from '../../queue/handlers.js';
import type { Store } from '../../store/store.js';

/**
 * Queue handlers for `kairos dev`, each doing a small real thing on the dev store: a backup (SQLite's
 * online backup API; three kept), log aggregation (run counts by lane and state over the last hour),
 * secret rotation (a new random secret, only its fingerprint kept), and a poison job that always
 * fails, so the dead-letter queue has something to show.
 */
export function createDemoQueueHandlers(store: Store): Record<string, JobHandler> {
  let secretVersion = 0;
  return {
    daily_backup: async (payload: { keep?: number } | null) => {
      if (store.dialect !== 'sqlite' || store.path === ':memory:') return { skipped: 'backups copy a SQLite file store' };
      const folder = join(dirname(store.path), 'backups');
      mkdirSync(folder, { recursive: true });
      const file = join(folder, `kairos-${new Date().toISOString().replace(/[:.]/g, '-')}.db`);
      const { totalPages } = await store.db.backup(file);
      const keep = payload?.keep ?? 3;
      const old = readdirSync(folder).filter((f) => f.startsWith('kairos-') && f.endsWith('.db')).sort().slice(0, -keep);
      for (const name of old) rmSync(join(folder, name), { force: true });
      return { file, pages: totalPages, pruned: old.length };
    },
    log_aggregation: async () => {
      const sinceMs = Date.now() - 3_600_000;
      const sql = 'SELECT kind, state, COUNT(*) AS n FROM engine_runs WHERE created_ms >= ? GROUP BY kind, state';
      const rows =
        store.dialect === 'sqlite'
          ? (store.db.prepare(sql).all(sinceMs) as Array<{ kind: string; state: string; n: number }>)
          : ((await store.pool.query(sql.replace('?', '$1'), [sinceMs])).rows as Array<{ kind: string; state: string; n: string }>);
      return Object.fromEntries(rows.map((r) => [`${r.kind}.${r.state}`, Number(r.n)]));
    },
    secret_rotation: (payload: { name?: string } | null) => {
      secretVersion += 1;
      const fingerprint = createHash('sha256').update(randomBytes(32)).digest('hex').slice(0, 12);
      return { secret: payload?.name ?? 'api-signing-key', version: secretVersion, fingerprint };
    },
    poison: (payload: { reason?: string } | null) => {
      throw new Error(payload?.reason ?? 'poison job: this payload can never be processed');
    },
  };
}

/**
 * A simulated drift score: a slow wave with a little noise, crossing 0.3 for a few samples about once
 * per `periodSamples`, as a model's input distribution drifts and is corrected.
 */
export function createDriftSignal(periodSamples = 12): () => number {
  let sample = 0;
  return () => {
    sample += 1;
    const wave = 0.18 + 0.16 * Math.sin((2 * Math.PI * sample) / periodSamples);
    const noise = (Math.sin(sample * 12.9898) * 43_758.5453) % 0.03;
    return Math.round(Math.max(0, wave + noise) * 1_000) / 1_000;
  };
}
