import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import type { Channel, ConsumeMessage } from 'amqplib';
import { AckWindow, type WindowEntry } from '../../../src/queue/providers/rabbitmq/ack-window.js';

/** What the window sent, as `ack 5+` (multiple), `ack 5`, `nack 5 requeue` / `nack 5 dead`. */
function recordingChannel(): { channel: Channel; sent: string[] } {
  const sent: string[] = [];
  const channel = {
    ack: (msg: ConsumeMessage, allUpTo?: boolean) => sent.push(`ack ${msg.fields.deliveryTag}${allUpTo === true ? '+' : ''}`),
    nack: (msg: ConsumeMessage, _allUpTo?: boolean, requeue?: boolean) => sent.push(`nack ${msg.fields.deliveryTag} ${requeue === true ? 'requeue' : 'dead'}`),
  } as unknown as Channel;
  return { channel, sent };
}

function deliver(window: AckWindow, count: number, firstTag = 1): WindowEntry[] {
  return Array.from({ length: count }, (_, i) => {
    const entry: WindowEntry = { msg: { fields: { deliveryTag: firstTag + i } } as ConsumeMessage, state: 'open' };
    window.delivered(entry);
    return entry;
  });
}

describe('AckWindow (coalesced RabbitMQ acks)', () => {
  it('settles a run of finished deliveries with one multiple ack', () => {
    const { channel, sent } = recordingChannel();
    const window = new AckWindow(channel);
    const d = deliver(window, 5);
    for (const entry of d.slice(0, 4)) window.markAck(entry);
    window.flush();
    assert.deepEqual(sent, ['ack 4+']);
    assert.equal(window.size, 1, 'only the open delivery is left');
  });

  it('acks a delivery behind a running one on its own, and never covers the running one', () => {
    const { channel, sent } = recordingChannel();
    const window = new AckWindow(channel);
    const d = deliver(window, 4);
    window.markAck(d[3]!);
    window.markAck(d[1]!);
    window.flush();
    assert.deepEqual(sent, ['ack 4', 'ack 2']);
    window.markAck(d[0]!);
    window.flush();
    // 1 and 2 lead the window now: one multiple ack at 1, the last delivery still unacked on the broker.
    assert.deepEqual(sent.slice(2), ['ack 1+']);
    window.markAck(d[2]!);
    window.flush();
    assert.deepEqual(sent.slice(3), ['ack 3+']);
    assert.equal(window.size, 0);
  });

  it('sends a nack at once and lets a later multiple ack pass over it', () => {
    const { channel, sent } = recordingChannel();
    const window = new AckWindow(channel);
    const d = deliver(window, 4);
    window.markAck(d[0]!);
    window.nack(d[1]!, false);
    window.nack(d[3]!, true);
    assert.deepEqual(sent, ['nack 2 dead', 'nack 4 requeue']);
    window.markAck(d[2]!);
    window.flush();
    // The multiple ack names 3, the last delivery still unacked, not the nacked 4.
    assert.deepEqual(sent.slice(2), ['ack 3+']);
  });

  it('settles a delivery once: a second ack or nack of it sends nothing', () => {
    const { channel, sent } = recordingChannel();
    const window = new AckWindow(channel);
    const [entry] = deliver(window, 1);
    window.markAck(entry!);
    window.markAck(entry!);
    window.nack(entry!, true);
    window.flush();
    window.flush();
    assert.deepEqual(sent, ['ack 1+']);
  });

  it('flushes on its own once the event loop turns, coalescing the acks marked in one turn', async () => {
    const { channel, sent } = recordingChannel();
    const window = new AckWindow(channel);
    const d = deliver(window, 3);
    for (const entry of d) window.markAck(entry);
    assert.deepEqual(sent, []);
    await nextTurn();
    assert.deepEqual(sent, ['ack 3+']);
  });

  it('stays the size of what is unacked behind a long-running delivery', () => {
    const { channel, sent } = recordingChannel();
    const window = new AckWindow(channel);
    const [running] = deliver(window, 1);
    for (let batch = 0; batch < 100; batch += 1) {
      const d = deliver(window, 100, 2 + batch * 100);
      for (const entry of d) window.markAck(entry);
      window.flush();
      assert.ok(window.size <= 2_048, `window holds ${window.size} after ${batch + 1} batches`);
    }
    assert.equal(sent.length, 10_000, 'every ack was sent on its own');
    window.markAck(running!);
    window.flush();
    assert.equal(sent.at(-1), 'ack 1+');
    assert.equal(window.size, 0);
  });
});
