/**
 * How long the web UI's Runs page takes to show its first page with 100 000 runs in the store.
 *
 *   node --import tsx bench/ui/runs-page.ts [--runs 100000] [--steps-per-run 10] [--loads 5]
 *
 * Seeds a temporary SQLite store with finished flow/workflow runs (plain INSERTs: this measures the
 * page, not the engine), starts `kairos dev --port 0` on it, and loads /runs in the system Chromium
 * (a fresh profile per load, so nothing is cached) until its 50 rows are on screen. Also times
 * GET /api/runs?limit=50 (first page and a deep cursor page) from Node. Target: ≤ 1 s per page load.
 */
import { rmSync } from 'node:fs';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import { seedRuns } from '../api/seed.js';
import { launchBrowser, startDevOn } from './support.js';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const RUNS = arg('runs', 100_000);
const LOADS = arg('loads', 5);
const STEPS_PER_RUN = arg('steps-per-run', 10);

/** Finished runs and their journal (bench/api/seed.ts: 10 step rows per run by default, so 1 000 000 with 100 000 runs). */
async function seed(path: string): Promise<void> {
  const store = openSqliteStore({ path });
  await seedRuns(store, { runs: RUNS, stepsPerRun: STEPS_PER_RUN, spanMs: RUNS * 1_000, gridFlow: { name: 'nightly-etl', tasks: ['tables', 'extract', 'validate', 'transform', 'load', 'report'] } });
  await store.close();
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const seedStarted = Date.now();
const { dir, dbPath } = startDevOn.tempStore();
await seed(dbPath);
const seedMs = Date.now() - seedStarted;
const dev = await startDevOn(dbPath);
const browser = await launchBrowser();
try {
  const apiFirst: number[] = [];
  const apiDeep: number[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < LOADS; i++) {
    let t = performance.now();
    const first = (await (await fetch(`${dev.url}/api/runs?limit=50`)).json()) as { runs: unknown[]; nextCursor: string | null };
    apiFirst.push(performance.now() - t);
    cursor = first.nextCursor;
    // A page deep in the history: follow the cursor 20 pages (1000 runs) down, time the last hop.
    for (let hop = 0; hop < 20 && cursor !== null; hop++) {
      t = performance.now();
      const page = (await (await fetch(`${dev.url}/api/runs?limit=50&cursor=${encodeURIComponent(cursor)}`)).json()) as { nextCursor: string | null };
      if (hop === 19) apiDeep.push(performance.now() - t);
      cursor = page.nextCursor;
    }
  }
  const pageLoads: number[] = [];
  for (let i = 0; i < LOADS; i++) {
    const context = await browser.fresh();
    const page = await context.newPage();
    const t = performance.now();
    await page.goto(`${dev.url}/runs`);
    await page.waitForFunction('document.querySelectorAll("tr[data-run]").length === 50', undefined, { timeout: 10_000 });
    pageLoads.push(performance.now() - t);
    await context.close();
  }
  const row = (what: string, xs: number[], target: number | null): string =>
    `| ${what} | ${median(xs).toFixed(0)} | ${Math.max(...xs).toFixed(0)} | ${target === null ? '—' : `${target}`} | ${target === null ? '—' : (median(xs) / target).toFixed(2)} |`;
  console.log(`\nRuns page with ${RUNS.toLocaleString('en')} runs and ${(RUNS * STEPS_PER_RUN).toLocaleString('en')} step records in the store (seeded in ${(seedMs / 1000).toFixed(1)} s), ${LOADS} loads each\n`);
  console.log('| what | median ms | max ms | target ms | median / target |');
  console.log('|---|---|---|---|---|');
  console.log(row('/runs page: navigation → 50 rows on screen (Chromium, cold profile)', pageLoads, 1_000));
  console.log(row('GET /api/runs?limit=50 (first page)', apiFirst, null));
  console.log(row('GET /api/runs?limit=50&cursor=… (21st page)', apiDeep, null));
} finally {
  await browser.close();
  await dev.stop();
  rmSync(dir, { recursive: true, force: true });
}
