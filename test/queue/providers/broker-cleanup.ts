import { readdirSync } from 'node:fs';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import amqp from 'amqplib';
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
