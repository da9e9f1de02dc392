import { RunState } from '../core/states.js';
import type { Engine } from '../engine/runtime/engine.js';
import type { DeploymentScheduler } from '../engine/scheduler/scheduler.js';
import type { LocalScheduler } from '../local/scheduler.js';
import type { Overview, QueueLaneView } from '../server/routes/lanes.js';
import type { Store } from '../store/store.js';
import type { LaneActivity } from './activity.js';
import { LATE_THRESHOLD_MS } from './wiring.js';

/**
 * /api/overview: one card per lane. Every number says where it comes from (`sources` on each lane),
 * because the lanes keep different records:
 *
 * - flow / workflow — runs, failures, late and missed fires are read from the store (engine_runs,
 *   schedule_fires): every process's runs, and they survive restarts.
 * - queue — depth is read live from the provider (`stats()`); dead letters of the last 24 h from the
 *   store where Kairos keeps them (queue_jobs for the sqlite/postgres providers, the broker ledger for
 *   nats/rabbitmq/kafka/cloudtasks; Redis keeps its own, so there they are this process's count);
 *   completed and retried jobs leave no row (a completed job's row is deleted), so those counts are
 *   what this process's workers saw since it started (`processStartedMs`).
 * - local — in-process by design: runs are what this process ran since it started; misfits are the
 *   jobs currently flagged.
 */

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const STATES: readonly string[] = Object.values(RunState);
const FAILURE_STATES = ['Failed', 'TimedOut', 'Crashed'];
/** Providers whose dead letters Kairos records in the store's broker ledger. */
const LEDGER_PROVIDERS = ['nats', 'rabbitmq', 'kafka', 'cloudtasks'];

export interface OverviewSources {
  store: Store;
  activity: LaneActivity;
  local: LocalScheduler;
  engine: Engine;
  queue: QueueLaneView;
  scheduler: DeploymentScheduler | null;
  nowMs: () => number;
  /** When this process's in-memory counters started. */
  processStartedMs: number;
}

function onlyStates(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([state]) => STATES.includes(state)));
}

const sum = (counts: Record<string, number>, keys: readonly string[]): number => keys.reduce((total, key) => total + (counts[key] ?? 0), 0);

/** Runs one read query on either dialect; `?` placeholders become `$n` on PostgreSQL. */
async function rows<T>(store: Store, sql: string, params: readonly unknown[]): Promise<T[]> {
  if (store.dialect === 'sqlite') return store.db.prepare(sql).all(...params) as T[];
  let n = 0;
  return (await store.pool.query(sql.replace(/\?/g, () => `$${++n}`), [...params])).rows as T[];
}

/** Flow or workflow runs created since `sinceMs`, by current state (index engine_runs_kind_created). */
async function engineCounts(store: Store, kind: 'flow' | 'workflow', sinceMs: number): Promise<Record<string, number>> {
  const result = await rows<{ state: string; n: number | string }>(store, 'SELECT state, COUNT(*) AS n FROM engine_runs WHERE kind = ? AND created_ms >= ? GROUP BY state', [kind, sinceMs]);
  return Object.fromEntries(result.map((row) => [row.state, Number(row.n)]));
}

/** Missed and late scheduled fires of flow or workflow deployments since `sinceMs`, from schedule_fires. */
async function fireCounts(store: Store, kind: 'flow' | 'workflow', sinceMs: number): Promise<{ missed: number; late: number }> {
  const [row] = await rows<{ missed: number | string | null; late: number | string | null }>(
    store,
    `SELECT SUM(CASE WHEN f.state = 'Missed' THEN 1 ELSE 0 END) AS missed,
            SUM(CASE WHEN f.origin = 'schedule' AND f.started_at_ms IS NOT NULL AND f.started_at_ms - f.fire_ms > ? THEN 1 ELSE 0 END) AS late
       FROM schedule_fires f JOIN deployments d ON d.id = f.deployment_id
      WHERE d.target_kind = ? AND f.fire_ms >= ?`,
    [LATE_THRESHOLD_MS, kind, sinceMs],
  );
  return { missed: Number(row?.missed ?? 0), late: Number(row?.late ?? 0) };
}

/** Dead letters of the served queues since `sinceMs`, from the store; null where the store does not hold them (Redis). */
async function storedDeadLetters(store: Store, provider: string, queues: readonly string[], sinceMs: number): Promise<number | null> {
  if (queues.length === 0) return 0;
  const marks = queues.map(() => '?').join(', ');
  if (provider === store.dialect) {
    const [row] = await rows<{ n: number | string }>(store, `SELECT COUNT(*) AS n FROM queue_jobs WHERE state = 'dead' AND queue IN (${marks}) AND dead_at_ms >= ?`, [...queues, sinceMs]);
    return Number(row?.n ?? 0);
  }
  if (LEDGER_PROVIDERS.includes(provider)) {
    const [row] = await rows<{ n: number | string }>(store, `SELECT COUNT(*) AS n FROM broker_dead_letters WHERE provider = ? AND queue IN (${marks}) AND dead_at_ms >= ?`, [provider, ...queues, sinceMs]);
    return Number(row?.n ?? 0);
  }
  return null;
}

/** Builds /api/overview; see the module comment for where each number comes from. */
export function createOverview(sources: OverviewSources): () => Promise<Overview> {
  return async () => {
    const nowMs = sources.nowMs();
    const { activity, store } = sources;
    const local = { hour: activity.counts('local', HOUR_MS), day: activity.counts('local', DAY_MS) };
    const queue = { hour: activity.counts('queue', HOUR_MS), day: activity.counts('queue', DAY_MS) };
    const depth = { waiting: 0, active: 0, delayed: 0, dead: 0 };
    const served = sources.queue.queues();
    await Promise.all(
      served.map(async ({ provider, queue: name }) => {
        try {
          const stats = await provider.stats(name);
          depth.waiting += stats.waiting;
          depth.active += stats.active;
          depth.delayed += stats.delayed;
          depth.dead += stats.dead;
        } catch {
          // An unreachable broker shows as zero depth here; /api/queues reports its error.
        }
      }),
    );
    const providerName = served[0]?.provider.name ?? store.dialect;
    const deadStored = await storedDeadLetters(store, providerName, served.map((q) => q.queue), nowMs - DAY_MS);
    const engineLane = async (kind: 'flow' | 'workflow') => {
      const [hour, day, fires] = await Promise.all([engineCounts(store, kind, nowMs - HOUR_MS), engineCounts(store, kind, nowMs - DAY_MS), fireCounts(store, kind, nowMs - DAY_MS)]);
      return {
        lane: kind,
        running: sources.engine.definitions().some((d) => d.kind === kind),
        lastHour: hour,
        last24h: day,
        failures24h: sum(day, FAILURE_STATES),
        late24h: fires.late,
        missed24h: fires.missed,
        misfits: 0,
        queueDepth: null,
        sources: { runs: 'store', failures: 'store', late: 'store', missed: 'store', depth: null },
      } as const;
    };
    return {
      generatedAtMs: nowMs,
      processStartedMs: sources.processStartedMs,
      leader: sources.scheduler?.isLeader ?? false,
      lanes: [
        {
          lane: 'local',
          running: sources.local.state === 'running',
          lastHour: onlyStates(local.hour),
          last24h: onlyStates(local.day),
          failures24h: sum(local.day, ['Failed', 'TimedOut']),
          late24h: local.day.late ?? 0,
          missed24h: local.day.missed ?? 0,
          misfits: sources.local.listJobs().filter((job) => job.misfit).length,
          queueDepth: null,
          sources: { runs: 'process', failures: 'process', late: 'process', missed: 'process', depth: null },
        },
        {
          lane: 'queue',
          running: served.length > 0,
          lastHour: onlyStates(queue.hour),
          last24h: onlyStates(queue.day),
          failures24h: deadStored ?? queue.day.dead ?? 0,
          late24h: 0,
          missed24h: 0,
          misfits: 0,
          queueDepth: depth,
          sources: { runs: 'process', failures: deadStored === null ? 'process' : 'store', late: null, missed: null, depth: 'provider' },
        },
        await engineLane('flow'),
        await engineLane('workflow'),
      ],
    };
  };
}
