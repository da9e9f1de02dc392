/**
 * Probe: single enqueue (one job per call) on PostgreSQL — Kairos provider.enqueue vs graphile-worker
 * addJob, alternating rounds on the same server so both see the same load. Prints ms per add.
 * Run: node --import tsx bench/queue/probes/pg-single-add.ts [jobsPerRound] [rounds]
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Logger, makeWorkerUtils } from 'graphile-worker';
import { createPostgresProvider } from '../../../src/queue/providers/postgres.js';
import { openPostgresStore } from '../../../src/store/postgres/open.js';

const url = process.env.KAIROS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const n = Number(process.argv[2] ?? 1_000);
const rounds = Number(process.argv[3] ?? 3);
const suffix = randomUUID().slice(0, 6);
const store = await openPostgresStore({ connectionString: url, schema: `kprobe_${suffix}`, maxConnections: 20 });
const provider = createPostgresProvider({ store });
await provider.connect(); // starts the LISTEN client, as a worker process would have
const utils = await makeWorkerUtils({ connectionString: url, schema: `gprobe_${suffix}`, logger: new Logger(() => () => undefined) });
await utils.migrate();
const commit = (await store.pool.query<{ synchronous_commit: string }>('SHOW synchronous_commit')).rows[0]?.synchronous_commit;
console.log(`synchronous_commit=${commit}; ${n} adds per round`);
try {
  for (let round = 1; round <= rounds; round += 1) {
    let t = performance.now();
    for (let i = 0; i < n; i += 1) await provider.enqueue([{ queue: 'single', name: 'x', payload: { i } }]);
    const kairosMs = (performance.now() - t) / n;
    t = performance.now();
    for (let i = 0; i < n; i += 1) await utils.addJob('x', { i });
    const graphileMs = (performance.now() - t) / n;
    console.log(`round ${round}: kairos ${kairosMs.toFixed(2)} ms/add (${(1000 / kairosMs).toFixed(0)}/s), graphile-worker ${graphileMs.toFixed(2)} ms/add (${(1000 / graphileMs).toFixed(0)}/s)`);
  }
} finally {
  await provider.close();
  await store.close();
  await utils.release();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA kprobe_${suffix} CASCADE; DROP SCHEMA gprobe_${suffix} CASCADE`);
  await admin.end();
}
