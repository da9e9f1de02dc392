/**
 * Opens a provider and the Kairos store it needs from flat settings (CLI flags and environment
 * variables), for `kairos worker`, `kairos enqueue` and `kairos dlq`.
 *
 * - sqlite: jobs in the SQLite store at `dbPath` (default ./.kairos/kairos.db).
 * - postgres: jobs in the PostgreSQL store at `postgresUrl` (KAIROS_POSTGRES_URL), schema `schema`.
 * - brokers: the broker at `url` (KAIROS_REDIS_URL, KAIROS_NATS_URL, KAIROS_RABBITMQ_URL,
 *   KAIROS_KAFKA_BROKERS, KAIROS_CLOUDTASKS_PARENT); the Kairos store (held jobs, dead-letter
 *   ledger) is PostgreSQL when `postgresUrl` is set, else SQLite at `dbPath`. Cloud Tasks also
 *   needs `targetUrl` (KAIROS_CLOUDTASKS_TARGET_URL): the http(s) URL its receiver is mounted at.
 */
import { ConfigError } from '../../errors.js';
import { openPostgresStore } from '../../store/postgres/open.js';
import { openSqliteStore } from '../../store/sqlite/open.js';
import type { Store } from '../../store/store.js';
import type { ProviderName, QueueProvider } from '../contract.js';
import { assertProviderName, createProvider } from './index.js';

export interface QueueConnectionSettings {
  provider: string;
  /** SQLite store file. Default ./.kairos/kairos.db. */
  dbPath?: string;
  /** PostgreSQL store URL. Default env KAIROS_POSTGRES_URL. */
  postgresUrl?: string;
  /** PostgreSQL schema. Default 'kairos'. */
  schema?: string;
  /** Broker address. Default: the provider's environment variable. */
  url?: string;
  /** Cloud Tasks only: the URL tasks are pushed to (the receiver). Default env KAIROS_CLOUDTASKS_TARGET_URL. */
  targetUrl?: string;
  env?: NodeJS.ProcessEnv;
}

export interface QueueConnection {
  provider: QueueProvider;
  store: Store;
  close(): Promise<void>;
}

const BROKER_ENV: Record<Exclude<ProviderName, 'sqlite' | 'postgres'>, string> = {
  redis: 'KAIROS_REDIS_URL',
  nats: 'KAIROS_NATS_URL',
  rabbitmq: 'KAIROS_RABBITMQ_URL',
  kafka: 'KAIROS_KAFKA_BROKERS',
  cloudtasks: 'KAIROS_CLOUDTASKS_PARENT',
};

/**
 * A broker provider's factory options from flat settings (without the store). Throws ConfigError
 * naming the flag and the variable when Cloud Tasks has no target URL.
 */
export function brokerOptions(
  name: Exclude<ProviderName, 'sqlite' | 'postgres'>,
  settings: QueueConnectionSettings,
  env: NodeJS.ProcessEnv = settings.env ?? process.env,
): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  const address = settings.url ?? env[BROKER_ENV[name]];
  if (address !== undefined) {
    if (name === 'kafka') options.brokers = address.split(',');
    else if (name === 'cloudtasks') options.parent = address;
    else options.url = address;
  }
  if (name === 'cloudtasks') {
    const targetUrl = settings.targetUrl ?? env.KAIROS_CLOUDTASKS_TARGET_URL;
    if (targetUrl === undefined || targetUrl === '') {
      throw new ConfigError(
        'The cloudtasks provider needs the URL Cloud Tasks pushes jobs to: pass --target-url or set KAIROS_CLOUDTASKS_TARGET_URL.',
        { details: { field: 'targetUrl' } },
      );
    }
    options.targetUrl = targetUrl;
  }
  return options;
}

export async function openQueueConnection(settings: QueueConnectionSettings): Promise<QueueConnection> {
  const env = settings.env ?? process.env;
  const name = assertProviderName(settings.provider, 'provider');
  const postgresUrl = settings.postgresUrl ?? env.KAIROS_POSTGRES_URL;
  const dbPath = settings.dbPath ?? env.KAIROS_DB ?? './.kairos/kairos.db';
  if (name !== 'sqlite' && name !== 'postgres') brokerOptions(name, settings, env); // bad settings: fail before opening the store
  if (name === 'postgres' && (postgresUrl === undefined || postgresUrl === '')) {
    throw new ConfigError('The postgres provider needs a database: pass --postgres-url or set KAIROS_POSTGRES_URL.', {
      details: { field: 'postgresUrl' },
    });
  }
  const store: Store =
    name === 'sqlite' || postgresUrl === undefined || postgresUrl === ''
      ? openSqliteStore({ path: dbPath })
      : await openPostgresStore({ connectionString: postgresUrl, schema: settings.schema ?? 'kairos' });
  let provider: QueueProvider;
  try {
    if (name === 'sqlite' || name === 'postgres') {
      provider = await createProvider(name, { store });
    } else {
      provider = await createProvider(name, { store, ...brokerOptions(name, settings, env) });
    }
    await provider.connect();
  } catch (error) {
    await store.close();
    throw error;
  }
  return {
    provider,
    store,
    async close() {
      await provider.close();
      await store.close();
    },
  };
}
