/**
 * Probe: single enqueue (one job per call) on PostgreSQL — Kairos provider.enqueue vs graphile-worker
 * addJob, alternating rounds on the same server so both see the same load. Prints ms per add.
 * Run: node --import tsx bench/queue/probes/pg-single-add.ts [jobsPerRound] [rounds]
 */
import { openPgPair } from './pg-pair.js';

const n = Number(process.argv[2] ?? 1_000);
const rounds = Number(process.argv[3] ?? 3);
const { store, provider, utils, close } = await openPgPair();
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
  await close();
}
