/**
 * Probe: enqueue → handler-start latency on PostgreSQL at low load — Kairos (provider + worker) vs
 * graphile-worker, alternating rounds on the same server so both see the same load.
 * Run: node --import tsx bench/queue/probes/pg-latency.ts [jobsPerRound] [rounds]
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { makeWorkerUtils } from 'graphile-worker';
import { createPostgresProvider } from '../../../src/queue/providers/postgres.js';
import { openPostgresStore } from '../../../src/store/postgres/open.js';
import { graphileLatency, quietGraphile } from '../graphile.js';
import { kairosLatency, percentile } from '../harness.js';

const url = process.env.KAIROS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const n = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 3);
const suffix = randomUUID().slice(0, 6);
const store = await openPostgresStore({ connectionString: url, schema: `kprobe_${suffix}`, maxConnections: 20 });
const provider = createPostgresProvider({ store });
await provider.connect();
const gSchema = `gprobe_${suffix}`;
const utils = await makeWorkerUtils({ connectionString: url, schema: gSchema, logger: quietGraphile });
await utils.migrate();

const fmt = (s: number[]) => `p50 ${percentile(s, 50).toFixed(2)} ms, p99 ${percentile(s, 99).toFixed(2)} ms`;
try {
  for (let round = 1; round <= rounds; round += 1) {
    const k = await kairosLatency(provider, `lat${round}`, n, 10);
    const g = await graphileLatency(url, gSchema, utils, n, 10);
    console.log(`round ${round}: kairos ${fmt(k)} | graphile-worker ${fmt(g)}`);
  }
} finally {
  await provider.close();
  await store.close();
  await utils.release();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA kprobe_${suffix} CASCADE; DROP SCHEMA ${gSchema} CASCADE`);
  await admin.end();
}
