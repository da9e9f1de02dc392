import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import pg from 'pg';
import { createPostgresProvider } from '../../../src/queue/providers/postgres.js';
import { MIGRATIONS } from '../../../src/store/migrations/index.js';
import { migratePostgres, openPostgresStore } from '../../../src/store/postgres/open.js';
import { fetchUntil, runQueueProviderContract } from '../../contract/queue-provider.js';
import { SERVICES, serviceSkip } from '../../support/services.js';
import { postgresStoresForThisFile } from '../support/postgres-stores.js';

const skip = await serviceSkip('postgres', 'postgres queue provider');
const openStore = postgresStoresForThisFile('kq');

runQueueProviderContract('postgres', async () => createPostgresProvider({ store: await openStore() }), { skip });

describe('postgres queue: migration 10 (the (queue, id) key)', { skip }, () => {
  it('keeps the jobs of a store created before it, and still refuses a duplicate id', async () => {
    const schema = `kq_m10_${randomUUID().slice(0, 8)}`;
    const pool = new pg.Pool({ connectionString: SERVICES.postgres.url, max: 2 });
    try {
      await migratePostgres(pool, schema, MIGRATIONS.filter((migration) => migration.version < 10));
      await pool.query(
        `INSERT INTO ${schema}.queue_jobs (queue, id, name, payload, run_at_ms, max_attempts, metadata, created_at_ms)
         VALUES ('old', 'job-1', 'noop', '{"n":1}', 0, 3, '{}', 0), ('old', 'job-2', 'noop', '{"n":2}', 0, 3, '{}', 0)`,
      );
      const store = await openPostgresStore({ connectionString: SERVICES.postgres.url, schema });
      const provider = createPostgresProvider({ store });
      try {
        const [again] = await provider.enqueue([{ queue: 'old', id: 'job-1', name: 'noop', payload: { n: 3 } }]);
        assert.deepEqual(again, { id: 'job-1', deduplicated: true });
        const leases = await fetchUntil(provider, 'old', 2);
        assert.deepEqual(leases.map((lease) => [lease.job.id, lease.job.payload]), [['job-1', { n: 1 }], ['job-2', { n: 2 }]]);
        for (const lease of leases) await provider.ack(lease);
        const { rows } = await pool.query<{ indexdef: string }>(
          `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND indexname = 'queue_jobs_pkey'`,
          [schema],
        );
        assert.match(rows[0]?.indexdef ?? '', /\(queue, id\)/);
      } finally {
        await provider.close();
        await store.close();
      }
    } finally {
      await pool.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await pool.end();
    }
  });
});
