import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Job } from '../../src/queue/contract.js';
import { createBrokerLedger } from '../../src/queue/ledger/index.js';
import { claimBatch, jobClaims, releaseJobClaims } from '../../src/queue/providers/broker/claims.js';
import { toJob } from '../../src/queue/providers/broker/jobs.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';

const dir = mkdtempSync(join(tmpdir(), 'kairos-claims-'));
const store = openSqliteStore({ path: join(dir, 'claims.db') });
const ledger = createBrokerLedger(store);
after(() => {
  store.db.close();
  rmSync(dir, { recursive: true, force: true });
});

const claimsOf = (job: Job) => jobClaims(job);
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

  it('a refused re-send gives back only what it took: the live job keeps its id claim', async () => {
    await claimBatch(ledger, 'p', [job('held', 'd')], claimsOf);
    // The re-send brings a dedup key it does take, then is refused on its id: the key is given back.
    const resent = await claimBatch(ledger, 'p', [job('held', 'd', 'fresh-key')], claimsOf);
    assert.deepEqual(resent.results, [{ id: 'held', deduplicated: true }]);
    const third = await claimBatch(ledger, 'p', [job('held', 'd')], claimsOf);
    assert.deepEqual(third.results, [{ id: 'held', deduplicated: true }], 'still held by the live job');
    const other = await claimBatch(ledger, 'p', [job('other', 'd', 'fresh-key')], claimsOf);
    assert.deepEqual(other.results, [{ id: 'other', deduplicated: false }], 'the key the re-send took is free again');
  });

  it('claims nothing for a generated id without a dedup key', () => {
    const generated = toJob({ queue: 'e', name: 'n', payload: null }, 0);
    assert.deepEqual(jobClaims(generated, false), []);
    assert.deepEqual(jobClaims({ ...generated, dedupKey: 'k' }, false), [{ key: 'key:k', jobId: generated.id }]);
    assert.deepEqual(jobClaims(generated).map((c) => c.key), [`id:${generated.id}`]);
  });
});
