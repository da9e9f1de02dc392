import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createDeployments, type Deployments } from '../../../src/engine/deployments/deployments.js';
import { createFireRepository, type StoredFire } from '../../../src/engine/deployments/repository.js';
import { createSql } from '../../../src/engine/deployments/sql.js';
import type { Store } from '../../../src/store/store.js';
import { dialects, freshStore } from '../support.js';
import { StoreLauncher } from './support/store-launcher.js';

for (const { dialect, skip } of await dialects('fire recording')) {
  describe(`recording a fire and listing buffered fires in one call on ${dialect}`, { skip }, () => {
    let store: Store;
    let deployments: Deployments;
    before(async () => {
      store = await freshStore(dialect);
      deployments = createDeployments({ store, launcher: await StoreLauncher.create(store) });
    });
    after(async () => {
      deployments.close();
      await store.close();
    });

    it('says whether it recorded the fire and returns the older buffered fires, oldest first', async () => {
      const deployment = await deployments.deploy({ kind: 'flow', name: 'noop' }, { name: 'fold', schedule: { every: '1h' } });
      const fires = createFireRepository(createSql(store));
      const fire = (fireMs: number, state: StoredFire['state']): StoredFire => ({
        fireKey: `${deployment.id}:${fireMs}`, deploymentId: deployment.id, fireMs, origin: 'schedule', state, runId: null, reason: null,
        parameters: null, recordedAtMs: fireMs, startedAtMs: null, schedulerId: 's',
      });
      assert.deepEqual(await fires.tryInsertListingBuffered(fire(1_000, 'Pending')), { inserted: true, buffered: [] });
      assert.equal(await fires.tryInsert(fire(3_000, 'Buffered')), true);
      assert.equal(await fires.tryInsert(fire(2_000, 'Buffered')), true);
      const next = await fires.tryInsertListingBuffered(fire(4_000, 'Pending'));
      assert.equal(next.inserted, true);
      assert.deepEqual(next.buffered.map((f) => [f.fireMs, f.state]), [[2_000, 'Buffered'], [3_000, 'Buffered']]);
      const again = await fires.tryInsertListingBuffered(fire(4_000, 'Pending'));
      assert.equal(again.inserted, false, 'the same tick is recorded once');
    });
  });
}
