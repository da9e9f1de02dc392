import { RunState } from '../core/states.js';
import type { Engine } from '../engine/runtime/engine.js';
import type { DeploymentScheduler } from '../engine/scheduler/scheduler.js';
import type { LocalScheduler } from '../local/scheduler.js';
import type { Overview, QueueLaneView } from '../server/routes/lanes.js';
import type { Store } from '../store/store.js';
import type { LaneActivity } from './activity.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
const STATES: readonly string[] = Object.values(RunState);
const FAILURE_STATES = ['Failed', 'TimedOut', 'Crashed'];

export interface OverviewSources {
  store: Store;
  activity: LaneActivity;
  local: LocalScheduler;
  engine: Engine;
  queue: QueueLaneView;
  scheduler: DeploymentScheduler | null;
  nowMs: () => number;
}

function onlyStates(counts: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(counts).filter(([state]) => STATES.includes(state)));
}

const sum = (counts: Record<string, number>, keys: readonly string[]): number => keys.reduce((total, key) => total + (counts[key] ?? 0), 0);

/** Flow or workflow runs created since `sinceMs`, by current state (index engine_runs_kind_created). */
async function engineCounts(store: Store, kind: 'flow' | 'workflow', sinceMs: number): Promise<Record<string, number>> {
  const sql = 'SELECT state, COUNT(*) AS n FROM engine_runs WHERE kind = ? AND created_ms >= ? GROUP BY state';
  const rows =
    store.dialect === 'sqlite'
      ? (store.db.prepare(sql).all(kind, sinceMs) as { state: string; n: number }[])
      : ((await store.pool.query(sql.replace('?', '$1').replace('?', '$2'), [kind, sinceMs])).rows as { state: string; n: string }[]);
  return Object.fromEntries(rows.map((row) => [row.state, Number(row.n)]));
}

/** Builds /api/overview from the store (flows, workflows), the activity counters (local, queue) and the providers (depth). */
export function createOverview(sources: OverviewSources): () => Promise<Overview> {
  return async () => {
    const nowMs = sources.nowMs();
    const { activity } = sources;
    const local = {
      hour: activity.counts('local', HOUR_MS),
      day: activity.counts('local', DAY_MS),
    };
    const queue = { hour: activity.counts('queue', HOUR_MS), day: activity.counts('queue', DAY_MS) };
    const depth = { waiting: 0, active: 0, delayed: 0, dead: 0 };
    await Promise.all(
      sources.queue.queues().map(async ({ provider, queue: name }) => {
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
    const engineLane = async (kind: 'flow' | 'workflow') => {
      const [hour, day] = await Promise.all([engineCounts(sources.store, kind, nowMs - HOUR_MS), engineCounts(sources.store, kind, nowMs - DAY_MS)]);
      const seen = activity.counts(kind, DAY_MS);
      return {
        lane: kind,
        running: sources.engine.definitions().some((d) => d.kind === kind),
        lastHour: hour,
        last24h: day,
        failures24h: sum(day, FAILURE_STATES),
        late24h: seen.late ?? 0,
        missed24h: seen.missed ?? 0,
        misfits: 0,
        queueDepth: null,
      };
    };
    return {
      generatedAtMs: nowMs,
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
        },
        {
          lane: 'queue',
          running: sources.queue.queues().length > 0,
          lastHour: onlyStates(queue.hour),
          last24h: onlyStates(queue.day),
          failures24h: queue.day.dead ?? 0,
          late24h: 0,
          missed24h: 0,
          misfits: 0,
          queueDepth: depth,
        },
        await engineLane('flow'),
        await engineLane('workflow'),
      ],
    };
  };
}
