/**
 * The setup both PostgreSQL probes share: a Kairos provider and graphile-worker, each in a fresh
 * schema on the same server; `close()` drops both schemas.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { makeWorkerUtils, type WorkerUtils } from 'graphile-worker';
import type { QueueProvider } from '../../../src/queue/contract.js';
import { createPostgresProvider } from '../../../src/queue/providers/postgres.js';
import { openPostgresStore } from '../../../src/store/postgres/open.js';
import type { PostgresStore } from '../../../src/store/store.js';
import { quietGraphile } from '../graphile.js';

export interface PgPair {
  url: string;
  store: PostgresStore;
  provider: QueueProvider;
  utils: WorkerUtils;
  graphileSchema: string;
  close: () => Promise<void>;
}

export async function openPgPair(): Promise<PgPair> {
  const url = process.env.KAIROS_BENCH_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const suffix = randomUUID().slice(0, 6);
  const kairosSchema = `kprobe_${suffix}`;
  const graphileSchema = `gprobe_${suffix}`;
  const store = await openPostgresStore({ connectionString: url, schema: kairosSchema, maxConnections: 20 });
  const provider = createPostgresProvider({ store });
  await provider.connect(); // starts the LISTEN client, as a worker process would have
  const utils = await makeWorkerUtils({ connectionString: url, schema: graphileSchema, logger: quietGraphile });
  await utils.migrate();
  return {
    url,
    store,
    provider,
    utils,
    graphileSchema,
    close: async () => {
      await provider.close();
      await store.close();
      await utils.release();
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      await admin.query(`DROP SCHEMA ${kairosSchema} CASCADE; DROP SCHEMA ${graphileSchema} CASCADE`);
      await admin.end();
    },
  };
}
