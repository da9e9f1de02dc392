import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Job } from '../../src/queue/contract.js';
import { createBrokerLedger } from '../../src/queue/ledger/index.js';
import { claimBatch, releaseJobClaims } from '../../src/queue/providers/broker/claims.js';
import { toJob } from '../../src/queue/providers/broker/jobs.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';

const dir = mkdtempSync(join(tmpdir(), 'kairos-claims-'));
const store = openSqliteStore({ path: join(dir, 'claims.db') });
const ledger = createBrokerLedger(store);
after(() => {
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

function claimsOf(job: Job): { key: string; jobId: string }[] {
  const claims = [{ key: `id:${job.id}`, jobId: job.id }];
  if (job.dedupKey !== null) claims.push({ key: `key:${job.dedupKey}`, jobId: job.id });
  return claims;
}
const job = (id: string, queue: string, dedupKey?: string): Job => toJob({ id, queue, name: 'n', payload: null, dedupKey }, 0);

describe('claimBatch (one ledger call per queue per batch)', () => {
  it('gives the outcome of claiming job by job: repeats, live ids, dedup keys across queues', async () => {
    await claimBatch(ledger, 'p', [job('live', 'a')], claimsOf);
    const batch = [job('j1', 'a', 'k'), job('j2', 'a', 'k'), job('j1', 'a'), job('live', 'a'), job('j3', 'b', 'k'), job('j4', 'a')];
    const { results, accepted } = await claimBatch(ledger, 'p', batch, claimsOf);
    assert.deepEqual(results, [
      { id: 'j1', deduplicated: false },
      { id: 'j1', deduplicated: true },
      { id: 'j1', deduplicated: true },
      { id: 'live', deduplicated: true },
      { id: 'j3', deduplicated: false },
      { id: 'j4', deduplicated: false },
    ]);
    assert.deepEqual(accepted.map((j) => j.id), ['j1', 'j3', 'j4']);
    // The refused j2 holds nothing: once j1 is released, j2's key is free.
    await releaseJobClaims(ledger, 'p', [batch[0]!], claimsOf);
    const again = await claimBatch(ledger, 'p', [job('j2', 'a', 'k')], claimsOf);
    assert.deepEqual(again.results, [{ id: 'j2', deduplicated: false }]);
  });

  it('claims again a job refused only on a key held by a job of the batch that was itself refused', async () => {
    await claimBatch(ledger, 'p', [job('x', 'c')], claimsOf);
    // x is live, so the second x is refused; in a job-by-job loop it gave its key k back before y claimed k.
    const { results, accepted } = await claimBatch(ledger, 'p', [job('x', 'c', 'k'), job('y', 'c', 'k')], claimsOf);
    assert.deepEqual(results, [
      { id: 'x', deduplicated: true },
      { id: 'y', deduplicated: false },
    ]);
    assert.deepEqual(accepted.map((j) => j.id), ['y']);
  });
});
