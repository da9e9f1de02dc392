/**
 * Probe: enqueue → handler-start latency on PostgreSQL at low load — Kairos (provider + worker) vs
 * graphile-worker, alternating rounds on the same server so both see the same load.
 * Run: node --import tsx bench/queue/probes/pg-latency.ts [jobsPerRound] [rounds]
 */
import { graphileLatency } from '../graphile.js';
import { kairosLatency, percentile } from '../harness.js';
import { openPgPair } from './pg-pair.js';

const n = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 3);
const { url, provider, utils, graphileSchema, close } = await openPgPair();

const fmt = (s: number[]) => `p50 ${percentile(s, 50).toFixed(2)} ms, p99 ${percentile(s, 99).toFixed(2)} ms`;
try {
  for (let round = 1; round <= rounds; round += 1) {
    const k = await kairosLatency(provider, `lat${round}`, n, 10);
    const g = await graphileLatency(url, graphileSchema, utils, n, 10);
    console.log(`round ${round}: kairos ${fmt(k)} | graphile-worker ${fmt(g)}`);
  }
} finally {
  await close();
}
