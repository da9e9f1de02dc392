import type { Command } from 'commander';
import type { QueueConnectionSettings } from '../../queue/providers/from-config.js';

/** Connection flags shared by `worker`, `enqueue` and `dlq`. */
export interface QueueFlags {
  provider: string;
  queue: string;
  db?: string;
  postgresUrl?: string;
  schema?: string;
  url?: string;
  targetUrl?: string;
}

export function addQueueFlags(command: Command): Command {
  return command
    .requiredOption('--provider <name>', 'sqlite | postgres | redis | nats | rabbitmq | kafka | cloudtasks')
    .option('--queue <name>', 'queue name', 'default')
    .option('--db <path>', 'SQLite store file (env KAIROS_DB)', undefined)
    .option('--postgres-url <url>', 'PostgreSQL store (env KAIROS_POSTGRES_URL)')
    .option('--schema <name>', 'PostgreSQL schema', 'kairos')
    .option('--url <address>', 'broker address (env KAIROS_REDIS_URL, KAIROS_NATS_URL, KAIROS_RABBITMQ_URL, KAIROS_KAFKA_BROKERS…)')
    .option('--target-url <url>', 'cloudtasks: the URL tasks are pushed to, where the receiver listens (env KAIROS_CLOUDTASKS_TARGET_URL)');
}

export function connectionSettings(flags: QueueFlags): QueueConnectionSettings {
  return {
    provider: flags.provider,
    ...(flags.db === undefined ? {} : { dbPath: flags.db }),
    ...(flags.postgresUrl === undefined ? {} : { postgresUrl: flags.postgresUrl }),
    ...(flags.schema === undefined ? {} : { schema: flags.schema }),
    ...(flags.url === undefined ? {} : { url: flags.url }),
    ...(flags.targetUrl === undefined ? {} : { targetUrl: flags.targetUrl }),
  };
}
