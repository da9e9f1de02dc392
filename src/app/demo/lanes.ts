import { formatDuration } from '../../core/duration.js';
import { CronSchedule, Deployment } from '../../engine/deployments/seed.js';
import { metricTrigger } from '../../engine/events/metric-trigger.js';
import { isTerminal } from '../../core/states.js';
import { toError } from '../../errors.js';
import { createMaintenanceJobs, registerMaintenanceJobs } from '../../local/maintenance.js';
import type { ServerEvent } from '../../server/sse.js';
import type { Kairos } from '../kairos.js';
import { driftRetrain, nightlyEtl, retrainModel } from './pipelines.js';
import { createSecurityScan } from './security-scan.js';
import { createDemoQueueHandlers, createDriftSignal } from './queue-work.js';

/**
 * The lanes of `kairos dev`, each doing the seed's example work on one Kairos app. A starter
 * registers its work before the app starts (`register`), starts its own feeders after (`afterStart`),
 * prints what fires, and reports one status line.
 */

export interface DevContext {
  kairos: Kairos;
  /** `--fast`: divide the demo schedules (local lane by 100; the others pick fast equivalents). 1 otherwise. */
  speedup: number;
  print: (lane: string, line: string, fields?: Record<string, unknown>) => void;
  /** The SQLite file of the dev store (the security scan checks it). Default: none. */
  dbPath?: string;
}

/** A lane running inside `kairos dev`. */
export interface StartedLane {
  name: string;
  /** After `kairos.start()`: start feeders, print what was started. */
  afterStart(): Promise<void> | void;
  /** One short line for the live status. */
  status(): string | Promise<string>;
  /** Runs every job of the lane once, now, and waits for it (`--once`). */
  runAllOnce(): Promise<void>;
  /** Stops the lane's own timers (the app stops the lanes themselves). */
  stop(): Promise<void> | void;
}

export type LaneStarter = (ctx: DevContext) => Promise<StartedLane> | StartedLane;

/** The local lane's default budget (LocalScheduler's `budgetMs`), and the demo scan's length just over it. */
const LOCAL_BUDGET_MS = 5_000;
const SECURITY_SCAN_MS = 6_000;

export function formatMs(ms: number): string {
  return ms < 10 ? `${Math.round(ms * 10) / 10}ms` : formatDuration(Math.round(ms));
}

/** Repeats `fn` every `ms` until stopped; errors are printed, not thrown. */
function every(ms: number, fn: () => Promise<unknown>, onError: (error: Error) => void): () => void {
  const timer = setInterval(() => void fn().catch((error: unknown) => onError(toError(error))), ms);
  return () => clearInterval(timer);
}

const on = (ctx: DevContext, prefix: string, fn: (event: ServerEvent) => void): (() => void) =>
  ctx.kairos.live.listen((event) => {
    if (event.type.startsWith(prefix)) fn(event);
  });

type Data = Record<string, unknown>;
// The tail: job ids are UUIDv7, whose head is the creation time and alike for jobs made together.
const short = (id: unknown): string => String(id).slice(-8);

/** The local lane with the seed's maintenance jobs, persistent in the dev store. */
export function startLocalLane(ctx: DevContext): StartedLane {
  const scheduler = ctx.kairos.local;
  const jobs = createMaintenanceJobs();
  registerMaintenanceJobs(scheduler, jobs, { speedup: ctx.speedup, persistent: true });
  // Weekly (every 5 s with --fast), 6 s of work against the lane's 5 s budget: the demo's misfit.
  // --fast divides the work and the budget by the same factor as the schedules.
  scheduler.every(ctx.speedup > 1 ? '5s' : '7d', createSecurityScan({ storePath: ctx.dbPath ?? ':memory:', durationMs: SECURITY_SCAN_MS / ctx.speedup }), {
    id: 'security-scan',
    budgetMs: LOCAL_BUDGET_MS / ctx.speedup,
    persistent: true,
  });
  const print = (line: string, fields?: Record<string, unknown>): void => ctx.print('local', line, fields);
  scheduler.events.on('job_executed', (e) =>
    print(`${e.jobId} ✓ ${formatMs(e.durationMs)} (late ${formatMs(e.lateMs)}) → ${JSON.stringify(e.result)}`, { event: 'job_executed', ...e }),
  );
  scheduler.events.on('job_error', (e) => print(`${e.jobId} ✗ ${e.state}: ${e.error.message}`, { event: 'job_error', jobId: e.jobId, state: e.state }));
  scheduler.events.on('job_missed', (e) => print(`${e.jobId} missed ${e.count} fire(s), first ${formatMs(e.lateMs)} late`, { event: 'job_missed', ...e }));
  scheduler.events.on('job_max_instances', (e) => print(`${e.jobId} skipped a fire: ${e.running} run(s) still going`, { event: 'job_max_instances', ...e }));
  scheduler.events.on('job_misfit', (e) => print(`MISFIT ${e.message}`, { event: 'job_misfit', ...e }));
  scheduler.events.on('scheduler_stopped', (e) =>
    print(`stopped (${e.report.finishedRuns} run(s) finished, ${e.report.abortedRuns.length} aborted)`),
  );
  return {
    name: 'local',
    afterStart: () => {
      print(`started ${scheduler.jobCount} jobs: ${scheduler.listJobs().map((j) => `${j.id} (${j.trigger.replace(/ from .*$/, '')})`).join(', ')}`);
    },
    status: () => {
      const list = scheduler.listJobs();
      const next = list.find((j) => j.nextRunMs !== null);
      const runs = list.reduce((sum, j) => sum + j.runCount, 0);
      const missed = list.reduce((sum, j) => sum + j.missedCount, 0);
      const misfits = list.filter((j) => j.misfit).length;
      const nextText = next?.nextRunMs == null ? 'nothing scheduled' : `next ${next.id} in ${formatMs(Math.max(0, next.nextRunMs - Date.now()))}`;
      return `${list.length} jobs · ${nextText} · runs ${runs} · missed ${missed} · misfits ${misfits}`;
    },
    runAllOnce: async () => {
      for (const job of scheduler.listJobs()) await scheduler.runJobNow(job.id);
    },
    stop: () => jobs.close(),
  };
}

/**
 * The queue lane: the seed's `enqueueWorkflow('daily_backup', …)` with a scheduleTime, log
 * aggregation and secret rotation enqueued periodically, and one poison job that dead-letters.
 */
export function startQueueLane(ctx: DevContext): StartedLane {
  const { kairos } = ctx;
  const fast = ctx.speedup > 1;
  for (const [key, handler] of Object.entries(createDemoQueueHandlers(kairos.store))) kairos.handle(key, handler);
  const print = (line: string, fields?: Record<string, unknown>): void => ctx.print('queue', line, fields);
  const counts = { completed: 0, retried: 0, dead: 0 };
  const stops: Array<() => void> = [
    on(ctx, 'queue.', (event) => {
      const e = event.data as Data;
      if (event.type === 'queue.job_completed') {
        counts.completed += 1;
        print(`${String(e.name)} ${short(e.jobId)} ✓ ${formatMs(Number(e.durationMs))} → ${JSON.stringify(e.result)}`, { event: event.type, ...e });
      } else if (event.type === 'queue.job_retried') {
        counts.retried += 1;
        print(`${String(e.name)} ${short(e.jobId)} attempt ${String(e.attempt)} failed (${(e.error as Data).message as string}); retry in ${formatMs(Number(e.delayMs))}`, { event: event.type });
      } else if (event.type === 'queue.job_dead') {
        counts.dead += 1;
        print(`${String(e.name)} ${short(e.jobId)} → DEAD LETTER after ${String(e.attempt)} attempts: ${(e.error as Data).message as string}`, { event: event.type });
      }
    }),
  ];
  const enqueue = async (key: string, context: unknown, extra: Record<string, unknown> = {}): Promise<void> => {
    const result = await kairos.queue.enqueueWorkflow(key, { queueProvider: kairos.queueLane.provider.name, context, ...extra });
    print(`enqueued ${key} ${short(result.runId)} for ${result.scheduledFor.slice(11, 19)}`, { event: 'enqueued', ...result });
  };
  const fail = (error: Error): void => print(`enqueue failed: ${error.message}`);
  return {
    name: 'queue',
    afterStart: async () => {
      // The seed's call, as written there: a backup due a little later (scheduleTime), held until then.
      await enqueue('daily_backup', { keep: 3 }, { metadata: { scheduleTime: new Date(Date.now() + (fast ? 500 : 10_000)) } });
      await enqueue('poison', { reason: 'malformed export manifest' }, { maxAttempts: 2, backoff: { type: 'fixed', delayMs: fast ? 100 : 2_000 } });
      stops.push(
        every(fast ? 1_500 : 60_000, () => enqueue('log_aggregation', { window: '1h' }), fail),
        every(fast ? 3_000 : 300_000, () => enqueue('secret_rotation', { name: 'api-signing-key' }), fail),
        every(fast ? 6_000 : 600_000, () => enqueue('daily_backup', { keep: 3 }), fail),
        // A malformed manifest turns up now and then, so the dead-letter queue, its metric and its alert stay live.
        every(fast ? 10_000 : 900_000, () => enqueue('poison', { reason: 'malformed export manifest' }, { maxAttempts: 2, backoff: { type: 'fixed', delayMs: fast ? 100 : 2_000 } }), fail),
      );
    },
    status: async () => {
      const depth = await kairos.queueLane.depth();
      return `${kairos.queueLane.provider.name}:${kairos.queueLane.queueNames.join(',')} · waiting ${depth.waiting} · active ${depth.active} · delayed ${depth.delayed} · dead ${depth.dead} · completed ${counts.completed} · retried ${counts.retried}`;
    },
    runAllOnce: async () => {
      const done = new Promise<void>((resolve) => {
        let left = 3;
        const off = on(ctx, 'queue.job_completed', () => {
          left -= 1;
          if (left === 0) {
            off();
            resolve();
          }
        });
      });
      for (const key of ['daily_backup', 'log_aggregation', 'secret_rotation']) await enqueue(key, {});
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, 10_000)))]);
      clearTimeout(timer);
    },
    stop: () => {
      for (const stop of stops) stop();
    },
  };
}

/** Prints flow/workflow run transitions of one kind. */
function printRuns(ctx: DevContext, lane: 'flow' | 'workflow', counts: Record<string, number>): () => void {
  const startedAt = new Map<string, number>();
  return on(ctx, 'run.state', (event) => {
    const e = event.data as { runId: string; name: string; kind: string; state: string; atMs: number };
    if (e.kind !== lane) return;
    if (e.state === 'Running' && !startedAt.has(e.runId)) startedAt.set(e.runId, e.atMs);
    if (!isTerminal(e.state as never) && e.state !== 'Running' && e.state !== 'Waiting') return;
    if (isTerminal(e.state as never)) counts[e.state] = (counts[e.state] ?? 0) + 1;
    const took = isTerminal(e.state as never) && startedAt.has(e.runId) ? ` in ${formatMs(e.atMs - (startedAt.get(e.runId) ?? e.atMs))}` : '';
    if (isTerminal(e.state as never)) startedAt.delete(e.runId);
    ctx.print(lane, `${e.name} run ${short(e.runId)} ${e.state}${took}`, { event: 'run_state', ...e });
  });
}

/** The flow lane: the ETL flow deployed on a cron schedule with the seed's Deployment.build mirror, plus a weekly retrain. */
export function startFlowLane(ctx: DevContext): StartedLane {
  const { kairos } = ctx;
  const fast = ctx.speedup > 1;
  kairos.register(nightlyEtl, retrainModel);
  const counts: Record<string, number> = {};
  const stops = [printRuns(ctx, 'flow', counts)];
  const cron = fast ? '*/3 * * * * *' : '*/2 * * * *';
  return {
    name: 'flow',
    afterStart: async () => {
      await Deployment.build({ flow: nightlyEtl, name: 'nightly-etl', schedule: new CronSchedule({ cron }), deployments: kairos.deployments, overlap: 'skip' }).apply();
      await Deployment.build({
        flow: retrainModel,
        name: 'weekly-retrain',
        schedule: new CronSchedule({ cron: '0 6 * * 1' }),
        parameters: { model: 'demand' },
        deployments: kairos.deployments,
      }).apply();
      ctx.print('flow', `deployed nightly-etl (cron '${cron}') and weekly-retrain (cron '0 6 * * 1'); run either from the UI`);
    },
    status: async () => {
      const deployment = await kairos.deployments.get('nightly-etl');
      const next = kairos.deployments.upcoming(deployment, 1)[0];
      return `nightly-etl next in ${next === undefined ? '—' : formatMs(Math.max(0, next - Date.now()))} · ${Object.entries(counts).map(([s, n]) => `${s} ${n}`).join(' · ') || 'no runs yet'}`;
    },
    runAllOnce: async () => {
      const { runId } = await kairos.engine.run('nightly-etl', {});
      await kairos.engine.waitForRun(runId, { timeoutMs: 10_000 });
    },
    stop: () => {
      for (const stop of stops) stop();
    },
  };
}

/** The workflow lane: drift → retrain → shadow → promote, started when a simulated drift score crosses 0.3. */
export function startWorkflowLane(ctx: DevContext): StartedLane {
  const { kairos } = ctx;
  const fast = ctx.speedup > 1;
  kairos.register(driftRetrain);
  const counts: Record<string, number> = {};
  const drift = createDriftSignal();
  let lastScore = 0;
  const stops = [
    printRuns(ctx, 'workflow', counts),
    on(ctx, 'deployment.fire', (event) => {
      const e = event.data as { origin: string; deploymentName: string; state: string; runId: string | null };
      if (e.origin === 'metric') ctx.print('workflow', `drift_score ${lastScore} crossed 0.3 → ${e.deploymentName}: ${e.state} run ${short(e.runId)}`, { event: 'fire', ...e });
    }),
  ];
  return {
    name: 'workflow',
    afterStart: async () => {
      await kairos.deployments.deploy(driftRetrain, {
        name: 'retrain-on-drift',
        on: metricTrigger({ metric: 'drift_score', above: 0.3, debounceMs: fast ? 500 : 10_000, throttleMs: fast ? 2_000 : 300_000 }),
        parameters: { model: 'demand', soak: fast ? '500ms' : '30s' },
        overlap: 'skip',
      });
      // The same workflow started by an event, as a data-quality monitor would emit it (and as the UI's
      // "send event" form does): `kairos emit drift.detected --payload '{"model":"demand"}'`.
      await kairos.deployments.deploy(driftRetrain, {
        name: 'retrain-on-drift-event',
        on: { event: 'drift.detected', match: { model: 'demand' } },
        parameters: { model: 'demand', soak: fast ? '500ms' : '30s' },
        overlap: 'skip',
      });
      ctx.print('workflow', `deployed retrain-on-drift (drift_score > 0.3) and retrain-on-drift-event (event drift.detected {model: demand}); feeding a simulated drift score every ${fast ? '400ms' : '5s'}`);
      stops.push(
        every(
          fast ? 400 : 5_000,
          async () => {
            lastScore = drift();
            await kairos.recordMetric('drift_score', lastScore, { model: 'demand' });
          },
          (error) => ctx.print('workflow', `recordMetric failed: ${error.message}`),
        ),
      );
    },
    status: () => `drift_score ${lastScore} · ${Object.entries(counts).map(([s, n]) => `${s} ${n}`).join(' · ') || 'no runs yet'}`,
    runAllOnce: async () => {
      const { runId } = await kairos.engine.run('drift-retrain', { model: 'demand', soak: '10ms' });
      await kairos.engine.waitForRun(runId, { timeoutMs: 10_000 });
    },
    stop: () => {
      for (const stop of stops) stop();
    },
  };
}

/** Lanes `kairos dev` starts, in order. */
export const LANE_STARTERS: readonly LaneStarter[] = [startLocalLane, startQueueLane, startFlowLane, startWorkflowLane];
