import { randomUUID } from 'node:crypto';
import { after } from 'node:test';
import pg from 'pg';
import { createPostgresProvider } from '../../src/queue/providers/postgres.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import type { PostgresStore } from '../../src/store/store.js';
import { runQueueRuntimeContract } from '../contract/queue-runtime.js';
import { SERVICES, serviceSkip } from '../support/services.js';

const skip = await serviceSkip('postgres', 'postgres queue runtime');
const stores: PostgresStore[] = [];
after(async () => {
  for (const store of stores) await store.close();
  if (stores.length === 0) return;
  const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
  await admin.connect();
  for (const store of stores) await admin.query(`DROP SCHEMA IF EXISTS ${store.schema} CASCADE`);
  await admin.end();
});

runQueueRuntimeContract(
  'postgres',
  async () => {
    const store = await openPostgresStore({ connectionString: SERVICES.postgres.url, schema: `kqr_${randomUUID().slice(0, 8)}` });
    stores.push(store);
    return createPostgresProvider({ store });
  },
  { skip },
);
