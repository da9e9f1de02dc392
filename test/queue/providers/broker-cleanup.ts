import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import amqp from 'amqplib';
import { Redis } from 'ioredis';
import { deleteRedisPrefixes } from './redis-support.js';

/**
 * Removes what a test left on a shared broker when the provider ran with its default `kairos` prefix
 * (as `openQueueConnection` does): the test's queues are random, so deleting exactly those is safe.
 */

/** Queue names of crash-test runs in `workDir` (the harness writes `<queue>.results` there). */
export function crashQueuesIn(workDir: string): string[] {
  return readdirSync(workDir)
    .filter((f) => f.endsWith('.results'))
    .map((f) => f.slice(0, -'.results'.length));
}

export async function deleteRedisQueues(url: string, queues: readonly string[], prefix = 'kairos'): Promise<void> {
  await deleteRedisPrefixes(
    queues.map((q) => `${prefix}:{${q}}`),
    url,
  );
}

export async function deleteNatsQueues(url: string, queues: readonly string[], prefix = 'kairos'): Promise<void> {
  if (queues.length === 0) return;
  const nc = await connect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const queue of queues) await jsm.streams.delete(`${prefix}_${queue.replace(/[^A-Za-z0-9_-]/g, '_')}`).catch(() => false);
  } finally {
    await nc.close();
  }
}

export async function deleteRabbitmqQueues(url: string, queues: readonly string[], prefix = 'kairos'): Promise<void> {
  if (queues.length === 0) return;
  const conn = await amqp.connect(url);
  try {
    for (const queue of queues) {
      for (const name of [`${prefix}.${queue}`, `${prefix}.${queue}.dead`]) {
        // A failed delete closes the channel: one channel per delete.
        const ch = await conn.createChannel();
        ch.on('error', () => undefined);
        await ch.deleteQueue(name).catch(() => undefined);
        await ch.close().catch(() => undefined);
      }
    }
  } finally {
    await conn.close();
  }
}

/**
 * Crash-test queue names (`chaos_…`, under the default `kairos` prefix) that exist on a broker now.
 * Taken before and after a crash test, the difference is the test's own queue even when it failed
 * before recording a result (its results file then does not exist). RabbitMQ is asked through
 * `rabbitmqctl` (AMQP cannot list queues); where that is unavailable the list is empty.
 */
export async function chaosQueuesOn(broker: 'redis' | 'nats' | 'rabbitmq', url: string): Promise<Set<string>> {
  const found = new Set<string>();
  if (broker === 'redis') {
    const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', 'kairos:{chaos_*', 'COUNT', 1000);
        cursor = next;
        for (const key of keys) {
          const match = /^kairos:\{(chaos_[^}]+)\}/.exec(key);
          if (match !== null) found.add(match[1]!);
        }
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  } else if (broker === 'nats') {
    const nc = await connect({ servers: url });
    try {
      const jsm = await jetstreamManager(nc);
      for await (const info of jsm.streams.list()) if (info.config.name.startsWith('kairos_chaos_')) found.add(info.config.name.slice('kairos_'.length));
    } finally {
      await nc.close();
    }
  } else {
    const listed = spawnSync('rabbitmqctl', ['list_queues', '--quiet', 'name'], { encoding: 'utf8', timeout: 30_000 });
    for (const line of (listed.stdout ?? '').split('\n')) {
      const match = /^kairos\.(chaos_[A-Za-z0-9]+)(\.dead)?$/.exec(line.trim());
      if (match !== null) found.add(match[1]!);
    }
  }
  return found;
}
