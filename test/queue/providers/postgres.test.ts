import { createPostgresProvider } from '../../../src/queue/providers/postgres.js';
import { runQueueProviderContract } from '../../contract/queue-provider.js';
import { serviceSkip } from '../../support/services.js';
import { postgresStoresForThisFile } from '../support/postgres-stores.js';

const skip = await serviceSkip('postgres', 'postgres queue provider');
const openStore = postgresStoresForThisFile('kq');

runQueueProviderContract('postgres', async () => createPostgresProvider({ store: await openStore() }), { skip });
