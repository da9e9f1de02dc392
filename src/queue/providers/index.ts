/**
 * Creates a provider by name, for configuration files and the CLI. Each provider module is imported
 * only when asked for, so a missing optional client library (or a provider not built into this copy)
 * never breaks the others.
 */
import { ConfigError, UnknownProviderError } from '../../errors.js';
import type { Store } from '../../store/store.js';
import { PROVIDER_NAMES, type ProviderName, type QueueProvider } from '../contract.js';

/** `store` is what the sqlite and postgres providers keep jobs in; every other field goes to the broker's factory. */
export type CreateProviderOptions = { store?: Store } & Record<string, unknown>;

const FACTORIES: Record<ProviderName, { module: string; factory: string }> = {
  sqlite: { module: './sqlite.js', factory: 'createSqliteProvider' },
  postgres: { module: './postgres.js', factory: 'createPostgresProvider' },
  redis: { module: './redis.js', factory: 'createRedisProvider' },
  nats: { module: './nats.js', factory: 'createNatsProvider' },
  rabbitmq: { module: './rabbitmq.js', factory: 'createRabbitmqProvider' },
  kafka: { module: './kafka.js', factory: 'createKafkaProvider' },
  cloudtasks: { module: './cloudtasks.js', factory: 'createCloudTasksProvider' },
};

export function isProviderName(name: string): name is ProviderName {
  return (PROVIDER_NAMES as readonly string[]).includes(name);
}

/** Throws UnknownProviderError listing the valid names. */
export function assertProviderName(name: string, field = 'provider'): ProviderName {
  if (!isProviderName(name)) {
    throw new UnknownProviderError(`Unknown queue provider '${name}': use one of ${PROVIDER_NAMES.join(', ')}.`, {
      details: { field, value: name, valid: [...PROVIDER_NAMES] },
    });
  }
  return name;
}

export async function createProvider(name: string, options: CreateProviderOptions = {}): Promise<QueueProvider> {
  const providerName = assertProviderName(name);
  const { module, factory } = FACTORIES[providerName];
  if (providerName === 'sqlite' || providerName === 'postgres') {
    if (options.store?.dialect !== providerName) {
      throw new ConfigError(`The ${providerName} provider keeps its jobs in a ${providerName} Kairos store: pass options.store (open${providerName === 'sqlite' ? 'Sqlite' : 'Postgres'}Store).`, {
        details: { field: 'store', provider: providerName },
      });
    }
  }
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(module)) as Record<string, unknown>;
  } catch (cause) {
    throw new ConfigError(`The ${providerName} queue provider could not be loaded (is its client library installed?).`, {
      cause,
      details: { provider: providerName, module },
    });
  }
  const create = loaded[factory];
  if (typeof create !== 'function') {
    throw new ConfigError(`The ${providerName} queue provider module does not export ${factory}.`, { details: { provider: providerName } });
  }
  return (create as (options: CreateProviderOptions) => QueueProvider)(options);
}
