import { createPostgresProvider } from '../../src/queue/providers/postgres.js';
import { runQueueRuntimeContract } from '../contract/queue-runtime.js';
import { serviceSkip } from '../support/services.js';
import { postgresStoresForThisFile } from './support/postgres-stores.js';

const skip = await serviceSkip('postgres', 'postgres queue runtime');
const openStore = postgresStoresForThisFile('kqr');

runQueueRuntimeContract('postgres', async () => createPostgresProvider({ store: await openStore() }), { skip });
