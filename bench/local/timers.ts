// The local lane's timer benchmark: Kairos vs croner vs node-cron, one library at a time, same job set.
//
//   npm run bench:local -- [--jobs 10000] [--seconds 60] [--rss-jobs 100000] [--quick] [--no-save] [--out file.md]
//
// What it measures (each library on the jobs it can express; see the notes printed with the table):
//   1. fire lateness p50/p99/max and fires vs expected, for interval jobs mixed 100 ms – 5 s;
//   2. CPU time per million no-op fires (process.cpuUsage over the same window);
//   3. RSS with 100,000 scheduled jobs, each library in its own child process (clean heap);
//   4. what each library does with fires delayed by code that blocks the loop (200 ms and 1500 ms).
// Results go to bench/results/local.md with the machine, the date and the command.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, getPriority, loadavg, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Cron } from 'croner';
import nodeCron from 'node-cron';
import type { createLocalScheduler as CreateLocalScheduler } from '../../src/local/scheduler.js';

/**
 * Kairos is measured from its tsc build (what `dist/` ships), not through tsx: tsx's esbuild
 * transform keeps function names by redefining `name` on every closure, which costs hundreds of bytes
 * per closure and would charge Kairos for the test harness. croner and node-cron are plain JS already.
 */
const BUILD_DIR = resolve('node_modules/.cache/kairos-bench');
let kairosSource = 'tsc build';

async function loadKairos(): Promise<typeof CreateLocalScheduler> {
  const file = resolve(BUILD_DIR, 'local/scheduler.js');
  // Rebuilt on every run (~20 s), so the figures are never those of stale code. tsc emits even when a
  // file elsewhere in src/ has a type error, so its exit code is not the test; the output file is.
  rmSync(BUILD_DIR, { recursive: true, force: true });
  console.log('» building Kairos with tsc (tsconfig.build.json) …');
  spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json', '--outDir', BUILD_DIR], { stdio: 'ignore' });
  if (existsSync(file)) {
    writeFileSync(resolve(BUILD_DIR, 'package.json'), '{"type":"module"}\n');
    const built = (await import(pathToFileURL(file).href)) as { createLocalScheduler: typeof CreateLocalScheduler };
    return built.createLocalScheduler;
  }
  kairosSource = 'source through tsx (the tsc build failed)';
  const source = await import('../../src/local/scheduler.js');
  return source.createLocalScheduler;
}
const createLocalScheduler = await loadKairos();

// ── arguments ──────────────────────────────────────────────────────────────────────────────────
const argv = process.argv.slice(2);
function flag(name: string): boolean {
  return argv.includes(`--${name}`);
}
function option(name: string, fallback: number): number {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const value = Number(argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: expected a positive number, got ${argv[i + 1]}`);
  return value;
}
const quick = flag('quick');
const JOBS = option('jobs', 10_000);
const SECONDS = option('seconds', quick ? 10 : 60);
const RSS_JOBS = option('rss-jobs', 100_000);
/** Where the markdown goes (`--out <file>`); several runs can then be kept side by side. */
const OUT_FILE = ((): string => {
  const i = argv.indexOf('--out');
  return i >= 0 && argv[i + 1] !== undefined ? (argv[i + 1] as string) : 'bench/results/local.md';
})();
const LIBS = ['kairos', 'croner', 'node-cron'] as const;
type Lib = (typeof LIBS)[number];

// ── the job set ────────────────────────────────────────────────────────────────────────────────
const INTERVALS_MS = [100, 250, 500, 1_000, 2_000, 3_000, 5_000] as const;

interface BenchJob {
  intervalMs: number;
  /** First intended fire, epoch ms (a whole second plus a whole-second phase for second-multiple intervals). */
  anchorMs: number;
}

/** Deterministic PRNG (mulberry32), so every library gets the very same jobs. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * The job set: intervals drawn from the mix; sub-second jobs get a phase in whole ms within their
 * interval, whole-second jobs a whole-second phase — so cron libraries can fire them on the very same
 * grid. `spreadAll` gives whole-second jobs a millisecond phase too (Kairos only: cron cannot).
 */
function makeJobs(count: number, baseMs: number, spreadAll = false): BenchJob[] {
  const random = prng(42);
  const jobs: BenchJob[] = [];
  for (let i = 0; i < count; i += 1) {
    const intervalMs = INTERVALS_MS[Math.floor(random() * INTERVALS_MS.length)] as number;
    const draw = random();
    const phaseMs = intervalMs < 1_000 || spreadAll ? Math.floor(draw * intervalMs) : Math.floor(draw * (intervalMs / 1_000)) * 1_000;
    jobs.push({ intervalMs, anchorMs: baseMs + phaseMs });
  }
  return jobs;
}

/** Cron libraries have a resolution of one second: they can only express whole-second intervals. */
function canExpress(lib: Lib, job: BenchJob): boolean {
  return lib === 'kairos' || job.intervalMs % 1_000 === 0;
}

const wallNowMs = (): number => performance.timeOrigin + performance.now();

// ── adapters: schedule a job set on one library, calling `onFire(jobIndex, intendedMs)` ─────────
interface Running {
  stop(): Promise<void>;
  /** Fires the library itself reported as missed/skipped (node-cron's execution:missed, Kairos job_missed). */
  reportedMissed(): number;
}

type OnFire = (jobIndex: number, intendedMs: number) => void;

/** Kairos variants: the defaults, plain millisecond timers, or per-fire listeners as metrics/app wiring attaches them. */
interface KairosVariant {
  exactTimers?: boolean;
  listeners?: boolean;
}

async function scheduleOn(lib: Lib, jobs: readonly BenchJob[], onFire: OnFire, variant: KairosVariant = {}): Promise<Running> {
  if (lib === 'kairos') {
    const scheduler = createLocalScheduler(variant.exactTimers === undefined ? {} : { exactTimers: variant.exactTimers });
    let missed = 0;
    scheduler.events.on('job_missed', (e) => {
      missed += e.count;
    });
    if (variant.listeners === true) {
      // What the metrics and app wiring do: count every fire and every result.
      let seen = 0;
      scheduler.events.on('job_submitted', (e) => void (seen += e.lateMs >= 0 ? 1 : 0));
      scheduler.events.on('job_executed', (e) => void (seen += e.durationMs >= 0 ? 1 : 0));
      scheduler.events.onAny(() => void (seen += 1));
    }
    jobs.forEach((job, i) => {
      scheduler.every(job.intervalMs, (ctx) => onFire(i, ctx.scheduledMs), { startMs: job.anchorMs });
    });
    await scheduler.start();
    return { stop: async () => void (await scheduler.stop()), reportedMissed: () => missed };
  }
  if (lib === 'croner') {
    const crons: Cron[] = [];
    jobs.forEach((job, i) => {
      if (!canExpress(lib, job)) return;
      // croner's interval option: a seconds pattern, at least `interval` seconds between runs. croner does
      // not tell a run its intended time; its fires are on whole seconds, so the intended time is the
      // whole second at or before the fire.
      crons.push(
        new Cron('* * * * * *', { interval: job.intervalMs / 1_000, startAt: new Date(job.anchorMs) }, () => {
          const nowMs = wallNowMs();
          onFire(i, Math.floor(nowMs / 1_000) * 1_000);
        }),
      );
    });
    return {
      stop: () => {
        for (const cron of crons) cron.stop();
        return Promise.resolve();
      },
      reportedMissed: () => 0,
    };
  }
  const tasks: ReturnType<typeof nodeCron.schedule>[] = [];
  let missed = 0;
  jobs.forEach((job, i) => {
    if (!canExpress(lib, job)) return;
    const everyS = job.intervalMs / 1_000;
    // Every interval in the mix divides 60, so listing the seconds ≡ offset (mod every) is the anchor's grid
    // (node-cron 4 rejects the `offset/every` step form).
    const offsetS = (Math.round(job.anchorMs / 1_000) % 60) % everyS;
    const seconds = Array.from({ length: 60 / everyS }, (_, k) => offsetS + k * everyS);
    const expression = everyS === 1 ? '* * * * * *' : `${seconds.join(',')} * * * * *`;
    const task = nodeCron.schedule(expression, (ctx) => onFire(i, ctx.date.getTime()), { suppressMissedWarning: true });
    task.on('execution:missed', () => {
      missed += 1;
    });
    tasks.push(task);
  });
  return {
    stop: async () => {
      for (const task of tasks) await task.destroy();
    },
    reportedMissed: () => missed,
  };
}

// ── 1 + 2: lateness, fires and CPU ─────────────────────────────────────────────────────────────
interface LatencyResult {
  lib: Lib;
  label: string;
  jobs: number;
  fires: number;
  expected: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  cpuSPerMillion: number;
  reportedMissed: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function measureLatency(lib: Lib, label: string, jobs: readonly BenchJob[], seconds: number, variant: KairosVariant = {}): Promise<LatencyResult> {
  const baseMs = jobs[0]?.anchorMs ?? 0;
  const windowStartMs = baseMs + 5_000; // every anchor (phase < 5 s) has started by then
  const windowEndMs = baseMs + seconds * 1_000;
  const expressed = jobs.filter((job) => canExpress(lib, job));
  let expected = 0;
  for (const job of expressed) {
    const firstK = Math.max(0, Math.ceil((windowStartMs - job.anchorMs) / job.intervalMs));
    const lastK = Math.floor((windowEndMs - 1 - job.anchorMs) / job.intervalMs);
    if (lastK >= firstK) expected += lastK - firstK + 1;
  }
  const samples = new Float64Array(Math.ceil(expected * 1.2) + 1_000);
  let fires = 0;
  const onFire: OnFire = (_i, intendedMs) => {
    const lateMs = wallNowMs() - intendedMs;
    if (intendedMs < windowStartMs || intendedMs >= windowEndMs) return;
    if (fires < samples.length) samples[fires] = lateMs;
    fires += 1;
  };
  const running = await scheduleOn(lib, jobs, onFire, variant);
  await sleep(windowStartMs - Date.now());
  const cpuStart = process.cpuUsage();
  await sleep(windowEndMs - Date.now());
  const cpu = process.cpuUsage(cpuStart);
  await sleep(200); // late fires of the window's last instants still count
  await running.stop();
  const sorted = samples.slice(0, Math.min(fires, samples.length)).sort();
  return {
    lib,
    label,
    jobs: expressed.length,
    fires,
    expected,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
    cpuSPerMillion: fires > 0 ? ((cpu.user + cpu.system) / 1e6 / fires) * 1e6 : Number.NaN,
    reportedMissed: running.reportedMissed(),
  };
}

/**
 * The floor: no library, one bare setTimeout chain re-armed for the next point of a 10 ms grid,
 * measured the same way. What the machine and Node's millisecond timers allow at that moment.
 */
async function measureFloor(seconds: number): Promise<LatencyResult> {
  const baseMs = Math.ceil(Date.now() / 1_000) * 1_000 + 1_000;
  const endMs = baseMs + seconds * 1_000;
  const samples: number[] = [];
  const cpuStart = process.cpuUsage();
  await new Promise<void>((done) => {
    let nextMs = baseMs;
    const tick = (): void => {
      samples.push(wallNowMs() - nextMs);
      nextMs += 10;
      if (nextMs >= endMs) return done();
      setTimeout(tick, Math.max(0, nextMs - Date.now()));
    };
    setTimeout(tick, baseMs - Date.now());
  });
  const cpu = process.cpuUsage(cpuStart);
  const sorted = Float64Array.from(samples).sort();
  return {
    lib: 'kairos',
    label: 'floor: bare setTimeout chain, 10 ms grid (no library)',
    jobs: 1,
    fires: samples.length,
    expected: seconds * 100,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    maxMs: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : Number.NaN,
    cpuSPerMillion: ((cpu.user + cpu.system) / 1e6 / Math.max(1, samples.length)) * 1e6,
    reportedMissed: 0,
  };
}

// ── 3: RSS with many scheduled jobs, in a child process ────────────────────────────────────────
interface RssResult {
  lib: Lib;
  jobs: number;
  baselineMb: number;
  rssMb: number;
  heapMb: number;
}

/**
 * The child is plain JavaScript run by plain node (no tsx), so its baseline is node itself. Jobs are
 * hourly: scheduled, not firing, so the heap holds the schedules and nothing else.
 */
const RSS_CHILD = `
const [lib, countText, buildFile] = process.argv.slice(1);
const count = Number(countText);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const noop = () => undefined;
globalThis.gc(); await sleep(100); globalThis.gc();
const baselineMb = process.memoryUsage().rss / 1048576;
const keep = [];
if (lib === 'kairos') {
  const { createLocalScheduler } = await import(buildFile);
  const scheduler = createLocalScheduler();
  for (let i = 0; i < count; i += 1) scheduler.every(3600000, noop);
  await scheduler.start();
  keep.push(scheduler);
} else if (lib === 'croner') {
  const { Cron } = await import('croner');
  for (let i = 0; i < count; i += 1) keep.push(new Cron('* * * * * *', { interval: 3600, startAt: new Date(Date.now() + 3600000) }, noop));
} else {
  const nodeCron = (await import('node-cron')).default;
  for (let i = 0; i < count; i += 1) keep.push(nodeCron.schedule('0 0 * * * *', noop));
}
await sleep(500); globalThis.gc(); await sleep(200); globalThis.gc();
const m = process.memoryUsage();
process.stdout.write(JSON.stringify({ lib, jobs: count, baselineMb, rssMb: m.rss / 1048576, heapMb: m.heapUsed / 1048576 }) + '\\n');
process.exit(0);
`;

function measureRss(lib: Lib, count: number): RssResult | string {
  const child = spawnSync(
    process.execPath,
    ['--expose-gc', '--input-type=module', '-e', RSS_CHILD, lib, String(count), pathToFileURL(resolve(BUILD_DIR, 'local/scheduler.js')).href],
    { encoding: 'utf8', timeout: 600_000, maxBuffer: 10_000_000 },
  );
  const line = child.stdout.split('\n').find((l) => l.startsWith('{'));
  if (child.status !== 0 || line === undefined) {
    const why = /heap out of memory/i.test(child.stderr) ? 'JavaScript heap out of memory' : child.stderr.trim().split('\n').slice(-1)[0];
    return `failed (exit ${child.status ?? child.signal}): ${why ?? ''}`;
  }
  return JSON.parse(line) as RssResult;
}

// ── 4: a blocked loop ──────────────────────────────────────────────────────────────────────────
interface BlockResult {
  lib: Lib;
  blockMs: number;
  /** Fires that came due while the loop was held. */
  delayed: number;
  /** Runs for them after the block (before the first fire the block did not touch). */
  ranLate: number;
  /** Delayed fires that never ran. */
  skipped: number;
  /** Jobs that ran more than once in that catch-up period (a burst of catch-up runs). */
  burstJobs: number;
  /** Fires the library itself reported as missed (Kairos job_missed, node-cron execution:missed). */
  reportedMissed: number;
  meanCatchUpLateMs: number;
}

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // hold the loop
  }
}

/**
 * 1,000 jobs every second on one grid; at x.900 a plain timer (identical for every library) holds the
 * loop for `blockMs`. The fires due during the block are the delayed ones; every run between the
 * block's start and the next untouched grid instant is a run for one of them.
 */
async function measureBlock(lib: Lib, blockMs: number): Promise<BlockResult> {
  const count = 1_000;
  const baseMs = Math.ceil(Date.now() / 1_000) * 1_000 + 2_000;
  const jobs: BenchJob[] = Array.from({ length: count }, () => ({ intervalMs: 1_000, anchorMs: baseMs }));
  const blockAtMs = baseMs + 2_900;
  const blockEndMs = blockAtMs + blockMs;
  const nextCleanMs = Math.floor(blockEndMs / 1_000) * 1_000 + 1_000; // first grid instant after the block
  const runs: { job: number; atMs: number }[] = [];
  const running = await scheduleOn(lib, jobs, (job) => {
    const atMs = wallNowMs();
    if (atMs >= blockAtMs && atMs < nextCleanMs) runs.push({ job, atMs });
  });
  const missedBefore = running.reportedMissed();
  await sleep(blockAtMs - Date.now());
  busyWait(blockMs);
  await sleep(nextCleanMs + 1_500 - Date.now());
  await running.stop();
  let dueInBlock = 0;
  for (let t = Math.ceil(blockAtMs / 1_000) * 1_000; t <= blockEndMs; t += 1_000) dueInBlock += 1;
  const delayed = dueInBlock * count;
  const perJob = new Map<number, number>();
  for (const run of runs) perJob.set(run.job, (perJob.get(run.job) ?? 0) + 1);
  const lateSum = runs.reduce((sum, run) => sum + (run.atMs - (Math.ceil(blockAtMs / 1_000) * 1_000)), 0);
  return {
    lib,
    blockMs,
    delayed,
    ranLate: runs.length,
    skipped: Math.max(0, delayed - runs.length),
    burstJobs: [...perJob.values()].filter((n) => n > 1).length,
    reportedMissed: running.reportedMissed() - missedBefore,
    meanCatchUpLateMs: runs.length > 0 ? lateSum / runs.length : Number.NaN,
  };
}

// ── report ─────────────────────────────────────────────────────────────────────────────────────
const f1 = (n: number): string => (Number.isFinite(n) ? (Math.round(n * 100) / 100).toFixed(2) : 'n/a');
const ratio = (ours: number, best: number): string => (Number.isFinite(ours) && Number.isFinite(best) && best > 0 ? `${(ours / best).toFixed(2)}×` : 'n/a');

function table(headers: string[], rows: string[][]): string {
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

async function main(): Promise<void> {
  const startedAt = new Date();
  const loadAtStart = loadavg().map((n) => n.toFixed(2)).join(' ');
  const command = `npm run bench:local -- ${argv.join(' ')}`.trim();
  console.log(`local-lane timers: ${JOBS} jobs, ${SECONDS} s per run${quick ? ' (quick)' : ''}, RSS with ${RSS_JOBS} jobs`);

  console.log('» latency floor: a bare setTimeout chain');
  const floor = await measureFloor(Math.min(SECONDS, 20));
  console.log(`  p50 ${f1(floor.p50Ms)} ms  p99 ${f1(floor.p99Ms)} ms  max ${f1(floor.maxMs)} ms`);
  const latency: LatencyResult[] = [];
  const plan: { lib: Lib; label: string; subset: boolean; spreadAll?: boolean; variant?: KairosVariant }[] = [
    { lib: 'kairos', label: 'Kairos (all jobs, 100 ms – 5 s)', subset: false },
    { lib: 'kairos', label: 'Kairos (all jobs, `exactTimers: false`: plain ms timers)', subset: false, variant: { exactTimers: false } },
    { lib: 'kairos', label: 'Kairos (all jobs, with per-fire listeners: job_submitted, job_executed, onAny)', subset: false, variant: { listeners: true } },
    { lib: 'kairos', label: 'Kairos (all jobs, every phase spread to the ms)', subset: false, spreadAll: true },
    { lib: 'kairos', label: 'Kairos (whole-second jobs only)', subset: true },
    { lib: 'croner', label: 'croner 11 (whole-second jobs, `interval`)', subset: true },
    { lib: 'node-cron', label: 'node-cron 4 (whole-second jobs, listed seconds)', subset: true },
  ];
  for (const run of plan) {
    const baseMs = Math.ceil(Date.now() / 1_000) * 1_000 + 3_000;
    let jobs = makeJobs(JOBS, baseMs, run.spreadAll === true);
    if (run.subset) jobs = jobs.filter((job) => job.intervalMs % 1_000 === 0);
    console.log(`» latency: ${run.label} — ${jobs.length} jobs`);
    const result = await measureLatency(run.lib, run.label, jobs, SECONDS, run.variant);
    latency.push(result);
    console.log(
      `  fires ${result.fires}/${result.expected}  p50 ${f1(result.p50Ms)} ms  p99 ${f1(result.p99Ms)} ms  max ${f1(result.maxMs)} ms  cpu ${f1(result.cpuSPerMillion)} s/1M fires`,
    );
    await sleep(500);
  }

  const rss: (RssResult | string)[] = [];
  for (const lib of LIBS) {
    console.log(`» RSS: ${lib} with ${RSS_JOBS} jobs (child process)`);
    let result = measureRss(lib, RSS_JOBS);
    if (typeof result === 'string') {
      // Say how far it does get: the same measurement with a tenth of the jobs.
      const smaller = measureRss(lib, Math.round(RSS_JOBS / 10));
      result = typeof smaller === 'string' ? result : `${result}; with ${smaller.jobs} jobs: RSS ${f1(smaller.rssMb)} MB, heap ${f1(smaller.heapMb)} MB`;
    }
    rss.push(result);
    console.log(typeof result === 'string' ? `  ${result}` : `  rss ${f1(result.rssMb)} MB (baseline ${f1(result.baselineMb)} MB), heap ${f1(result.heapMb)} MB`);
  }

  const blocks: BlockResult[] = [];
  for (const blockMs of [200, 1_500]) {
    for (const lib of LIBS) {
      console.log(`» blocked loop ${blockMs} ms: ${lib}`);
      const result = await measureBlock(lib, blockMs);
      blocks.push(result);
      console.log(
        `  delayed ${result.delayed}: ran late ${result.ranLate} (mean ${f1(result.meanCatchUpLateMs)} ms after the first delayed fire), skipped ${result.skipped}, jobs with a burst ${result.burstJobs}, reported missed ${result.reportedMissed}`,
      );
    }
  }

  // Ratios: Kairos on the same whole-second jobs vs the best other library.
  const same = latency.find((r) => r.label.startsWith('Kairos (whole'));
  const others = latency.filter((r) => r.lib !== 'kairos');
  const bestOf = (pick: (r: LatencyResult) => number): number => Math.min(...others.map(pick).filter(Number.isFinite));
  const latencyTable = table(
    ['library', 'jobs', 'fires / expected', 'p50 late ms', 'p99 late ms', 'max late ms', 'CPU s / 1M fires', 'missed (reported)'],
    [
      ...[floor, ...latency].map((r) => [r.label, String(r.jobs), `${r.fires} / ${r.expected} (${((r.fires / r.expected) * 100).toFixed(1)}%)`, f1(r.p50Ms), f1(r.p99Ms), f1(r.maxMs), f1(r.cpuSPerMillion), String(r.reportedMissed)]),
      same === undefined
        ? []
        : [
            '**Kairos / best other** (same jobs)',
            '',
            '',
            ratio(same.p50Ms, bestOf((r) => r.p50Ms)),
            ratio(same.p99Ms, bestOf((r) => r.p99Ms)),
            ratio(same.maxMs, bestOf((r) => r.maxMs)),
            ratio(same.cpuSPerMillion, bestOf((r) => r.cpuSPerMillion)),
            '',
          ],
    ],
  );
  const rssRows = rss.map((r, i) => (typeof r === 'string' ? [LIBS[i] as string, r, '', ''] : [r.lib, f1(r.rssMb), f1(r.rssMb - r.baselineMb), f1(r.heapMb)]));
  const rssOk = rss.filter((r): r is RssResult => typeof r !== 'string');
  const kairosRss = rssOk.find((r) => r.lib === 'kairos');
  const bestRss = Math.min(...rssOk.filter((r) => r.lib !== 'kairos').map((r) => r.rssMb));
  const rssTable = table(
    ['library', `RSS MB with ${RSS_JOBS} jobs`, 'RSS − baseline MB', 'heap used MB'],
    [...rssRows, ['**Kairos / best other**', kairosRss === undefined ? 'n/a' : ratio(kairosRss.rssMb, bestRss), '', '']],
  );
  const blockTable = table(
    ['block', 'library', 'fires delayed', 'ran late', 'mean catch-up delay ms', 'skipped', 'jobs with a burst', 'reported missed'],
    blocks.map((b) => [`${b.blockMs} ms`, b.lib, String(b.delayed), String(b.ranLate), f1(b.meanCatchUpLateMs), String(b.skipped), String(b.burstJobs), String(b.reportedMissed)]),
  );

  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  let gitRev = 'unknown';
  try {
    gitRev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
  } catch {
    // not a git checkout
  }
  const markdown = `# Local lane timers: Kairos vs croner vs node-cron

- Date: ${startedAt.toISOString()}
- Machine: ${cpus().length} × ${cpu}, ${Math.round(totalmem() / 1_073_741_824)} GB RAM, Node ${process.version}, ${process.platform}/${process.arch}; bench process nice ${getPriority()}; load average (1/5/15 min) ${loadAtStart} at the start, ${loadavg().map((n) => n.toFixed(2)).join(' ')} at the end — other work shared the machine, so tail latencies carry its noise
- Command: \`${command}\` (git ${gitRev}); Kairos from its ${kairosSource}
- Job set: ${JOBS} interval jobs, intervals drawn from ${INTERVALS_MS.join(', ')} ms (seeded, identical for every library); sub-second jobs on a millisecond phase, whole-second jobs on a whole-second phase (so cron libraries fire them on the same grid); ${SECONDS} s per run, the first 5 s not counted. Libraries run one after another in one process; RSS runs in child processes.

## Fire lateness, fires and CPU (no-op jobs)

Lateness = when the job function ran − its intended time on the anchored grid (Kairos passes \`scheduledMs\`; node-cron passes \`ctx.date\`; croner passes nothing, and its fires are on whole seconds, so the intended time is the whole second at or before the run). CPU = process user+system time over the window ÷ fires. The first row is the floor: no library, one bare setTimeout chain on a 10 ms grid (up to 20 s), which is what Node's millisecond timers and the machine's load allowed at that moment.

${latencyTable}

Notes: croner and node-cron have a one-second resolution, so they run only the whole-second jobs (1, 2, 3, 5 s) of the set; the "whole-second jobs only" Kairos row runs exactly those jobs, and the ratio row compares it with the best of the other two. On a whole-second grid every job of one phase fires at the same instant, so an instant carries a burst of hundreds to thousands of callbacks, and lateness late in a burst includes running the callbacks before it (one thread); the "spread to the ms" row shows the same 10,000 jobs with their phases spread, as schedules added at different times are.

## Memory: ${RSS_JOBS} scheduled jobs (each library in its own child process, after GC)

${rssTable}

## A blocked event loop

1,000 jobs every second on one grid; at x.900 a plain timer (the same for every library) holds the loop. "Fires delayed" came due during the block; every run between the block's start and the next grid instant the block did not touch is a (late) run for one of them; "skipped" never ran; "jobs with a burst" ran more than once in that catch-up period. Kairos uses its defaults (misfire grace 1 s, coalesce on).

${blockTable}
`;
  console.log(`\n${markdown}`);
  if (!flag('no-save')) {
    mkdirSync(dirname(resolve(OUT_FILE)), { recursive: true });
    writeFileSync(OUT_FILE, markdown);
    console.log(`saved ${OUT_FILE}`);
  }
}

await main();
process.exit(0);
