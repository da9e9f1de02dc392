/**
 * The bare amqplib loop the RabbitMQ bench and probe measure Kairos against: what a provider on this
 * client could do at most — publish persistent messages with confirms, consume, ack each at once.
 */
import { randomUUID } from 'node:crypto';
import type { ChannelModel, ConfirmChannel } from 'amqplib';

/** Publishes `jobs` job-shaped messages to a quorum queue, waiting for confirms every 1,000. Returns jobs/s. */
export async function barePublish(publisher: ConfirmChannel, queue: string, jobs: number): Promise<number> {
  await publisher.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const body = (i: number) => Buffer.from(JSON.stringify({ id: randomUUID(), queue: 'q', name: 'noop', payload: { i }, attempt: 0, maxAttempts: 3, metadata: {} }));
  const started = performance.now();
  for (let i = 0; i < jobs; i += 1_000) {
    for (let k = 0; k < Math.min(1_000, jobs - i); k += 1) publisher.sendToQueue(queue, body(i + k), { persistent: true, contentType: 'application/json' });
    await publisher.waitForConfirms();
  }
  return jobs / ((performance.now() - started) / 1_000);
}

/** Consumes `jobs` messages with `prefetch` unacked at most, parsing and acking each. Returns jobs/s. */
export async function bareConsume(conn: ChannelModel, queue: string, jobs: number, prefetch: number): Promise<number> {
  const consumer = await conn.createChannel();
  try {
    await consumer.prefetch(prefetch);
    let done = 0;
    let resolveAll: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    const started = performance.now();
    await consumer.consume(queue, (msg) => {
      if (msg === null) return;
      JSON.parse(msg.content.toString('utf8'));
      consumer.ack(msg);
      done += 1;
      if (done === jobs) resolveAll();
    });
    await all;
    return jobs / ((performance.now() - started) / 1_000);
  } finally {
    await consumer.close();
  }
}
