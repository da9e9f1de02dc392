import { resolve } from 'node:path';
import type { Command } from 'commander';
import { formatDuration } from '../../core/duration.js';
import { ConfigError } from '../../errors.js';
import { createMaintenanceJobs, registerMaintenanceJobs } from '../../local/maintenance.js';
import { createLocalScheduler } from '../../local/scheduler.js';
import { openSqliteStore } from '../../store/sqlite/open.js';
import type { Store } from '../../store/store.js';

/**
 * `kairos dev`: everything in one process on the embedded SQLite store. Each lane is started by one
 * function in `LANE_STARTERS`; the others (queue, flow, workflow) join that list as they land.
 */

interface DevOptions {
  db: string;
  duration?: string;
  once?: boolean;
  fast?: boolean;
  statusEvery: string;
  json?: boolean;
}

/** What every lane starter gets: the shared store and a way to print. */
export interface DevContext {
  store: Store;
  /** `--fast`: divide the demo schedules by this. 1 otherwise. */
  speedup: number;
  print: (lane: string, line: string, fields?: Record<string, unknown>) => void;
}

/** A lane running inside `kairos dev`. */
export interface StartedLane {
  name: string;
  /** One short line for the live status. */
  status(): string;
  /** Runs every job of the lane once, now (`--once`). */
  runAllOnce(): Promise<void>;
  stop(deadlineMs: number): Promise<void>;
}

export type LaneStarter = (ctx: DevContext) => Promise<StartedLane>;

/** The local lane with the seed's maintenance jobs, persistent in the dev store. */
export async function startLocalLane(ctx: DevContext): Promise<StartedLane> {
  const scheduler = createLocalScheduler({ store: ctx.store });
  const jobs = createMaintenanceJobs();
  registerMaintenanceJobs(scheduler, jobs, { speedup: ctx.speedup, persistent: true });
  const print = (line: string, fields?: Record<string, unknown>): void => ctx.print('local', line, fields);
  scheduler.events.on('job_executed', (e) =>
    print(`${e.jobId} ✓ ${formatMs(e.durationMs)} (late ${formatMs(e.lateMs)}) → ${JSON.stringify(e.result)}`, { event: 'job_executed', ...e }),
  );
  scheduler.events.on('job_error', (e) => print(`${e.jobId} ✗ ${e.state}: ${e.error.message}`, { event: 'job_error', jobId: e.jobId, state: e.state }));
  scheduler.events.on('job_missed', (e) => print(`${e.jobId} missed ${e.count} fire(s), first ${formatMs(e.lateMs)} late`, { event: 'job_missed', ...e }));
  scheduler.events.on('job_max_instances', (e) => print(`${e.jobId} skipped a fire: ${e.running} run(s) still going`, { event: 'job_max_instances', ...e }));
  scheduler.events.on('job_misfit', (e) => print(`MISFIT ${e.message}`, { event: 'job_misfit', ...e }));
  await scheduler.start();
  print(`started ${scheduler.jobCount} jobs: ${scheduler.listJobs().map((j) => `${j.id} (${j.trigger.replace(/ from .*$/, '')})`).join(', ')}`);
  return {
    name: 'local',
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
    stop: async (deadlineMs) => {
      const report = await scheduler.stop({ deadlineMs });
      jobs.close();
      print(`stopped (${report.finishedRuns} run(s) finished, ${report.abortedRuns.length} aborted)`);
    },
  };
}

/** Lanes `kairos dev` starts, in order. */
export const LANE_STARTERS: readonly LaneStarter[] = [startLocalLane];

function formatMs(ms: number): string {
  return ms < 10 ? `${Math.round(ms * 10) / 10}ms` : formatDuration(ms);
}

function parseSeconds(flag: string, text: string | undefined): number | null {
  if (text === undefined) return null;
  const seconds = Number(text);
  if (!Number.isFinite(seconds) || seconds <= 0) {
    throw new ConfigError(`${flag}: expected a positive number of seconds, got '${text}'.`, { details: { field: flag } });
  }
  return seconds;
}

export function registerDev(program: Command): void {
  program
    .command('dev')
    .description('Run Kairos in one process on the embedded SQLite store: the local lane with the seed\'s maintenance jobs.')
    .option('--db <path>', 'SQLite file of the dev store', './.kairos/kairos.db')
    .option('--duration <seconds>', 'stop and exit after this many seconds')
    .option('--once', 'run every job once now, print the results, and exit', false)
    .option('--fast', 'divide the maintenance schedules by 100 (heartbeat every 100 ms) for demos and tests', false)
    .option('--status-every <seconds>', 'how often to print the status line', '5')
    .option('--json', 'print JSON lines instead of text', false)
    .action(async (options: DevOptions) => runDev(options));
}

async function runDev(options: DevOptions): Promise<void> {
  const durationS = parseSeconds('--duration', options.duration);
  const statusEveryS = parseSeconds('--status-every', options.statusEvery) ?? 5;
  const dbPath = resolve(options.db);
  const json = options.json === true;
  const print = (lane: string, line: string, fields: Record<string, unknown> = {}): void => {
    const at = new Date();
    process.stdout.write(
      json
        ? `${JSON.stringify({ time: at.toISOString(), lane, msg: line, ...fields }, (_k, v: unknown) => (v instanceof Error ? v.message : v))}\n`
        : `${at.toISOString().slice(11, 23)} [${lane}] ${line}\n`,
    );
  };

  const store = openSqliteStore({ path: dbPath });
  print('dev', `store ${dbPath}${options.fast === true ? ' · --fast: schedules ÷100' : ''}`);
  const ctx: DevContext = { store, speedup: options.fast === true ? 100 : 1, print };
  const lanes: StartedLane[] = [];
  try {
    for (const start of LANE_STARTERS) lanes.push(await start(ctx));
  } catch (error) {
    for (const lane of lanes.reverse()) await lane.stop(1_000);
    await store.close();
    throw error;
  }

  if (options.once === true) {
    for (const lane of lanes) await lane.runAllOnce();
    for (const lane of lanes.reverse()) await lane.stop(5_000);
    await store.close();
    return;
  }

  const statusTimer = setInterval(() => {
    for (const lane of lanes) print('status', `${lane.name}: ${lane.status()}`);
  }, statusEveryS * 1_000);

  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const reason = await new Promise<string>((resolveStop) => {
    onSignal = (signal) => resolveStop(signal);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    if (durationS !== null) setTimeout(() => resolveStop(`--duration ${durationS}s elapsed`), durationS * 1_000).unref();
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  clearInterval(statusTimer);
  print('dev', `stopping (${reason})`);
  for (const lane of lanes) print('status', `${lane.name}: ${lane.status()}`);
  for (const lane of [...lanes].reverse()) await lane.stop(5_000);
  await store.close();
  process.exitCode = 0;
}
