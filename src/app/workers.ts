import type { Engine } from '../engine/runtime/engine.js';
import type { QueueProvider } from '../queue/contract.js';
import type { WorkersView } from '../server/routes/lanes.js';
import type { Store } from '../store/store.js';
import type { InFlightJob } from './wire-queue.js';

/** A queue worker of this process, as /api/workers shows it. */
export interface QueueWorkerEntry {
  id: string;
  provider: QueueProvider;
  queues: readonly string[];
  concurrency: number;
  leaseMs: number;
  isRunning: () => boolean;
  inFlight: ReadonlyMap<string, InFlightJob>;
}

type Row = Record<string, unknown>;

async function query(store: Store, sql: string, args: unknown[]): Promise<Row[]> {
  if (store.dialect === 'sqlite') return store.db.prepare(sql).all(...args) as Row[];
  let n = 0;
  return (await store.pool.query(sql.replace(/\?/g, () => `$${++n}`), args)).rows as Row[];
}

const num = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value));

/**
 * Workers and leases: this process's queue workers with their in-flight jobs (lease expiry read from
 * the store for the sqlite and postgres providers, which keep it there; brokers hold leases
 * themselves), and every engine worker of any process that holds a Running run's lease.
 */
export function createWorkersView(options: { store: Store; engine: Engine; queueWorkers: () => readonly QueueWorkerEntry[] }): () => Promise<WorkersView> {
  return async () => {
    const queueWorkers = await Promise.all(
      options.queueWorkers().map(async (worker) => {
        const jobs = [...worker.inFlight.values()];
        const leases = new Map<string, number | null>();
        if (jobs.length > 0 && (worker.provider.name === 'sqlite' || worker.provider.name === 'postgres') && worker.provider.name === options.store.dialect) {
          const rows = await query(options.store, `SELECT queue, id, lease_until_ms FROM queue_jobs WHERE state = 'active' AND id IN (${jobs.map(() => '?').join(', ')})`, jobs.map((j) => j.jobId));
          for (const row of rows) leases.set(`${String(row.queue)}\u0000${String(row.id)}`, num(row.lease_until_ms));
        }
        return {
          id: worker.id,
          provider: worker.provider.name,
          queues: [...worker.queues],
          running: worker.isRunning(),
          concurrency: worker.concurrency,
          leaseMs: worker.leaseMs,
          inFlight: jobs.map((job) => ({ ...job, leaseUntilMs: leases.get(`${job.queue}\u0000${job.jobId}`) ?? null })),
        };
      }),
    );
    const rows = await query(
      options.store,
      `SELECT id, name, kind, lease_owner, lease_until_ms FROM engine_runs WHERE state = 'Running' AND lease_owner IS NOT NULL ORDER BY lease_owner LIMIT 1000`,
      [],
    );
    const byOwner = new Map<string, WorkersView['engineWorkers'][number]['runs']>([[options.engine.workerId, []]]);
    for (const row of rows) {
      const owner = String(row.lease_owner);
      const runs = byOwner.get(owner) ?? [];
      runs.push({ runId: String(row.id), name: String(row.name), kind: String(row.kind), leaseUntilMs: num(row.lease_until_ms) });
      byOwner.set(owner, runs);
    }
    return {
      queueWorkers,
      engineWorkers: [...byOwner].map(([id, runs]) => ({ id, local: id === options.engine.workerId, runs })),
    };
  };
}
