/**
 * The API's list and read endpoints with 100 000 runs and 1 000 000 step records in the store, on
 * SQLite and on PostgreSQL, and the live stream under load.
 *
 *   node --import tsx bench/api/list.ts [--runs 100000] [--steps-per-run 10] [--requests 300]
 *                                       [--stores sqlite,postgres] [--sse-clients 20] [--sse-rate 500] [--sse-seconds 20]
 *
 * Each store is seeded in bulk (bench/api/seed.ts), then a createKairos app on it (no workers, no
 * scheduler: nothing but the API reads the store) answers each endpoint `--requests` times through
 * fastify.inject — routing, auth, zod validation and serialisation included, no sockets — and we
 * report p50 / p99 against the goal of 50 ms. Then 20 real HTTP SSE clients (in a worker thread, so
 * their parsing does not share the server's event loop) receive 500 events/s for 20 s: delivery ratio
 * and latency p50 / p99. Writes bench/results/api.md. PostgreSQL: KAIROS_BENCH_POSTGRES_URL or
 * postgres://postgres@127.0.0.1:5432/test, in a fresh schema dropped afterwards.
 */
import { writeFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import { createKairos, type Kairos } from '../../src/app/kairos.js';
import { encodeCursor } from '../../src/app/run-listing.js';
import { flow, task } from '../../src/engine/flow/define.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/store.js';
import { seedRuns, type SeedResult } from './seed.js';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : (process.argv[i + 1] ?? fallback);
};
const RUNS = Number(arg('runs', '100000'));
const STEPS_PER_RUN = Number(arg('steps-per-run', '10'));
const REQUESTS = Number(arg('requests', '300'));
const STORES = arg('stores', 'sqlite,postgres').split(',');
const SSE_CLIENTS = Number(arg('sse-clients', '20'));
const SSE_RATE = Number(arg('sse-rate', '500'));
const SSE_SECONDS = Number(arg('sse-seconds', '20'));
const GOAL_P99_MS = 50;
const PG_URL = process.env.KAIROS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const TASKS = ['tables', 'extract-a', 'extract-b', 'extract-c', 'validate', 'transform', 'load', 'index', 'report', 'notify'];
const gridFlow = flow('nightly-etl', {
  tasks: Object.fromEntries(TASKS.map((name, i) => [name, task({ needs: i === 0 ? [] : [TASKS[i - 1]!], run: () => null })])),
});

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
const fmt = (ms: number): string => (ms < 10 ? ms.toFixed(2) : ms.toFixed(1));

interface Row {
  store: string;
  endpoint: string;
  p50: number;
  p99: number;
  rows: string;
}

async function measure(app: Kairos, url: string | (() => string), expect: (body: unknown) => string): Promise<{ p50: number; p99: number; rows: string }> {
  const inject = app.server!.app;
  const times: number[] = [];
  let rows = '';
  for (let i = 0; i < REQUESTS + 20; i += 1) {
    const target = typeof url === 'string' ? url : url();
    const started = performance.now();
    const response = await inject.inject({ method: 'GET', url: target });
    const took = performance.now() - started;
    if (response.statusCode !== 200) throw new Error(`${target}: ${response.statusCode} ${response.body.slice(0, 300)}`);
    if (i >= 20) times.push(took); // the first 20 warm caches and JITs
    if (i === 20) rows = expect(response.json());
  }
  times.sort((a, b) => a - b);
  return { p50: percentile(times, 50), p99: percentile(times, 99), rows };
}

async function firstRow<T>(store: Store, sql: string): Promise<T> {
  if (store.dialect === 'sqlite') return store.db.prepare(sql).get() as T;
  return (await store.pool.query(sql)).rows[0] as T;
}

async function benchStore(kind: string): Promise<{ rows: Row[]; seed: SeedResult; sse: SseResult | null }> {
  let store: Store;
  let cleanup: () => Promise<void>;
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'kairos-bench-api-'));
    store = openSqliteStore({ path: join(dir, 'kairos.db') });
    cleanup = () => {
      rmSync(dir, { recursive: true, force: true });
      return Promise.resolve();
    };
  } else {
    const schema = `kairos_bench_api_${process.pid}`;
    store = await openPostgresStore({ connectionString: PG_URL, schema });
    cleanup = async () => {
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    };
  }
  const seed = await seedRuns(store, { runs: RUNS, stepsPerRun: STEPS_PER_RUN, spanMs: 7 * 24 * 3_600_000, gridFlow: { name: 'nightly-etl', tasks: TASKS } });
  console.log(`${kind}: seeded ${seed.runs} runs and ${seed.steps} steps in ${(seed.ms / 1_000).toFixed(1)} s`);
  const app = await createKairos({
    store,
    definitions: [gridFlow],
    queue: { workers: false },
    engine: { workers: false },
    scheduler: { enabled: false },
    http: { auth: { allowAnonymousLoopback: true }, port: 0 },
  });
  await app.start();
  const rows: Row[] = [];
  let sse: SseResult | null = null;
  try {
    const deep = await firstRow<{ created_ms: number | string; id: string }>(store, `SELECT created_ms, id FROM engine_runs ORDER BY created_ms DESC, id DESC LIMIT 1 OFFSET ${Math.floor(RUNS * 0.9)}`);
    const deepCursor = encodeCursor({ createdMs: Number(deep.created_ms), id: deep.id });
    const ids = (await app.server!.app.inject({ method: 'GET', url: '/api/runs?limit=100' })).json<{ runs: Array<{ id: string }> }>();
    if (ids.runs === undefined) throw new Error(`GET /api/runs: ${JSON.stringify(ids).slice(0, 400)}`);
    const sample = ids.runs.map((r) => r.id);
    let next = 0;
    const listed = (body: unknown): string => String((body as { runs: unknown[] }).runs.length);
    const cases: Array<[string, string | (() => string), (body: unknown) => string]> = [
      ['GET /api/runs (first page, 50)', '/api/runs?limit=50', listed],
      ['GET /api/runs?kind=workflow', '/api/runs?kind=workflow&limit=50', listed],
      ['GET /api/runs?name=wf-3', '/api/runs?name=wf-3&limit=50', listed],
      ['GET /api/runs?state=Crashed (1 in 12)', '/api/runs?state=Crashed&limit=50', listed],
      ['GET /api/runs?kind=flow&state=Failed', '/api/runs?kind=flow&state=Failed&limit=50', listed],
      ['GET /api/runs?name=nightly-etl&state=Failed', '/api/runs?name=nightly-etl&state=Failed&limit=50', listed],
      ['GET /api/runs deep cursor (90 % down)', `/api/runs?limit=50&cursor=${deepCursor}`, listed],
      ['GET /api/runs?kind=flow deep cursor', `/api/runs?kind=flow&limit=50&cursor=${deepCursor}`, listed],
      ['GET /api/runs?state=Failed deep cursor', `/api/runs?state=Failed&limit=50&cursor=${deepCursor}`, listed],
      ['GET /api/runs/:id (10 steps)', () => `/api/runs/${sample[next++ % sample.length] ?? ''}`, (body) => `${(body as { steps: unknown[] }).steps.length} steps`],
      ['GET /api/overview', '/api/overview', (body) => `${(body as { lanes: unknown[] }).lanes.length} lanes`],
      ['GET /api/flows/nightly-etl (grid of 20)', '/api/flows/nightly-etl', (body) => `${(body as { grid: unknown[] }).grid.length} runs`],
    ];
    for (const [endpoint, url, expect] of cases) {
      const result = await measure(app, url, expect);
      rows.push({ store: kind, endpoint, ...result });
      console.log(`${kind}  ${endpoint.padEnd(46)} p50 ${fmt(result.p50).padStart(7)} ms  p99 ${fmt(result.p99).padStart(7)} ms  (${result.rows})`);
    }
    if (kind === STORES[0]) sse = await benchStream(app);
  } finally {
    await app.stop({ deadlineMs: 2_000 });
    await store.close();
    await cleanup();
  }
  return { rows, seed, sse };
}

interface SseResult {
  clients: number;
  published: number;
  perClient: number[];
  p50: number;
  p99: number;
  max: number;
  dropped: number;
}

/** 20 real HTTP clients in a worker thread; the main thread publishes `SSE_RATE` events/s with their send time. */
async function benchStream(app: Kairos): Promise<SseResult> {
  const total = SSE_RATE * SSE_SECONDS;
  // A worker thread does not inherit `--import tsx`: register it there, then load the clients.
  const clientsModule = new URL('./sse-clients.ts', import.meta.url).href;
  const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); return import(${JSON.stringify(clientsModule)}); })`;
  const worker = new Worker(bootstrap, { eval: true, workerData: { url: `${app.url!}/api/events/stream?types=bench.tick`, clients: SSE_CLIENTS, total } });
  const ready = new Promise<void>((resolve) => worker.once('message', () => resolve()));
  const done = new Promise<{ counts: number[]; latencies: number[]; dropped: number }>((resolve, reject) => {
    worker.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && 'counts' in message) resolve(message as { counts: number[]; latencies: number[]; dropped: number });
    });
    worker.once('error', reject);
  });
  await ready;
  // Publish in 10 ms ticks (5 events each at 500/s), catching up if a tick is late.
  const startedMs = performance.now();
  let published = 0;
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - startedMs) / 1_000) * SSE_RATE));
      while (published < due) {
        published += 1;
        app.live.publish('bench.tick', { seq: published, sentAt: performance.timeOrigin + performance.now() });
      }
      if (published >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 10);
  });
  // Let the tail arrive, then tell the clients to report.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  worker.postMessage('report');
  const result = await done;
  await worker.terminate();
  const latencies = result.latencies.sort((a, b) => a - b);
  return {
    clients: SSE_CLIENTS,
    published,
    perClient: result.counts,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    max: latencies[latencies.length - 1] ?? Number.NaN,
    dropped: result.dropped,
  };
}

const results: Array<Awaited<ReturnType<typeof benchStore>>> = [];
for (const kind of STORES) results.push(await benchStore(kind));

const ratio = (p99: number): string => `${(p99 / GOAL_P99_MS).toFixed(2)}×`;
const lines = [
  '# HTTP API: list and read endpoints at 100 000 runs / 1 000 000 steps, and the live stream',
  '',
  `Command: \`node --import tsx bench/api/list.ts --runs ${RUNS} --steps-per-run ${STEPS_PER_RUN} --requests ${REQUESTS} --stores ${STORES.join(',')}\``,
  '',
  `Machine: ${process.platform} ${process.arch}, Node ${process.version}, ${(await import('node:os')).cpus().length} CPUs (shared with other work while measured).`,
  'Each endpoint is requested through `fastify.inject` (routing, auth, zod validation and serialisation; no socket) ' +
    `${REQUESTS} times after 20 warm-up requests. Goal: p99 ≤ ${GOAL_P99_MS} ms; "ratio" is p99 / goal (below 1× meets it).`,
  '',
  'Seeding (bulk load, one transaction):',
  '',
  '| store | runs | steps | seconds |',
  '|---|---:|---:|---:|',
  ...results.map((r, i) => `| ${STORES[i] ?? ''} | ${r.seed.runs} | ${r.seed.steps} | ${(r.seed.ms / 1_000).toFixed(1)} |`),
  '',
  '| store | endpoint | p50 ms | p99 ms | ratio to goal | answer |',
  '|---|---|---:|---:|---:|---|',
  ...results.flatMap((r) => r.rows.map((row) => `| ${row.store} | ${row.endpoint} | ${fmt(row.p50)} | ${fmt(row.p99)} | ${ratio(row.p99)} | ${row.rows} |`)),
  '',
];
const sse = results.find((r) => r.sse !== null)?.sse ?? null;
if (sse !== null) {
  const worst = Math.min(...sse.perClient);
  lines.push(
    `## Live stream: ${sse.clients} SSE clients over real HTTP, ${SSE_RATE} events/s for ${SSE_SECONDS} s (${STORES[0] ?? ''} app)`,
    '',
    'Clients run in a worker thread (their own event loop); latency is receive time minus publish time.',
    '',
    '| published | worst client received | ratio to 99 % goal | dropped notices | latency p50 ms | latency p99 ms | max ms |',
    '|---:|---:|---:|---:|---:|---:|---:|',
    `| ${sse.published} | ${worst} (${((100 * worst) / sse.published).toFixed(2)} %) | ${(worst / (0.99 * sse.published)).toFixed(3)}× | ${sse.dropped} | ${fmt(sse.p50)} | ${fmt(sse.p99)} | ${fmt(sse.max)} |`,
    '',
  );
}
writeFileSync(new URL('../results/api.md', import.meta.url), `${lines.join('\n')}\n`);
console.log(lines.join('\n'));
