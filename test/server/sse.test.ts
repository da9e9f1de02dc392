import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { eventsRoutes, type EventsRouteModule } from '../../src/server/routes/events.js';
import { createServer, type KairosServer } from '../../src/server/server.js';
import type { ServerEvent } from '../../src/server/sse.js';
import { TOKENS } from './fixture.js';

/** A push-driven event source: tests `push` events; every connected client gets its own iterator. */
class Hub {
  private readonly subscribers = new Set<(event: ServerEvent) => void>();
  get size(): number {
    return this.subscribers.size;
  }
  push(event: ServerEvent): void {
    for (const subscriber of this.subscribers) subscriber(event);
  }
  source = (signal: AbortSignal): AsyncIterable<ServerEvent> => {
    const queue: ServerEvent[] = [];
    let wake: (() => void) | null = null;
    const subscriber = (event: ServerEvent) => {
      queue.push(event);
      wake?.();
    };
    this.subscribers.add(subscriber);
    const subscribers = this.subscribers;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          while (!signal.aborted) {
            const next = queue.shift();
            if (next !== undefined) {
              yield next;
              continue;
            }
            const onAbort = () => wake?.();
            signal.addEventListener('abort', onAbort, { once: true });
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            signal.removeEventListener('abort', onAbort);
            wake = null;
          }
        } finally {
          subscribers.delete(subscriber);
        }
      },
    };
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(condition(), `timed out waiting for ${what}`);
}

describe('GET /api/events/stream over a real socket', () => {
  const hub = new Hub();
  let events: EventsRouteModule;
  let server: KairosServer;
  let baseUrl = '';
  before(async () => {
    events = eventsRoutes({ source: hub.source, heartbeatMs: 20, maxBufferedEvents: 50 });
    server = createServer({ auth: { tokens: [{ token: TOKENS.viewer, role: 'viewer' }] }, port: 0, routes: [events] });
    baseUrl = await server.listen();
  });
  after(() => server.close());

  function open(): Promise<{ response: IncomingMessage; text: () => string }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${baseUrl}/api/events/stream`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        resolve({ response, text: () => text });
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('streams events in order with ids, escaped JSON data, and heartbeats', async () => {
    const client = await open();
    assert.equal(client.response.statusCode, 200);
    assert.match(String(client.response.headers['content-type']), /^text\/event-stream/);
    assert.equal(client.response.headers['x-content-type-options'], 'nosniff');
    await until(() => hub.size === 1, 'the subscription');
    hub.push({ type: 'run.started', data: { runId: 'r1' } });
    hub.push({ type: 'run.failed\nevent: forged', data: { runId: 'r1', error: '<script>' } });
    await until(() => client.text().includes('run.failed'), 'the second event');
    await until(() => client.text().includes(': heartbeat'), 'a heartbeat');
    const text = client.text();
    assert.match(text, /id: 1\nevent: run\.started\ndata: \{"runId":"r1"\}\n\n/);
    // A newline in a type cannot inject a second SSE field.
    assert.match(text, /id: 2\nevent: run\.failed_event:_forged\ndata: \{"runId":"r1","error":"\\u003cscript\\u003e"\}\n\n/);
    client.response.destroy();
    await until(() => hub.size === 0 && events.stats().connections === 0, 'the server to drop the closed client');
  });

  it('drops the oldest events for a client that does not read, counts them, and tells the client', async () => {
    // A raw socket that stops reading right after the request: the kernel buffers fill, then ours.
    const socket = connect(Number(new URL(baseUrl).port), '127.0.0.1');
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    socket.write(`GET /api/events/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${TOKENS.viewer}\r\n\r\n`);
    await until(() => received.includes('kairos event stream') && hub.size === 1, 'the stream to open');
    socket.pause();
    const payload = 'x'.repeat(16_384);
    for (let i = 0; i < 3_000; i += 1) {
      hub.push({ type: 'tick', data: { i, payload } });
      if (i % 100 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await until(() => events.stats().droppedEvents > 0, 'drops');
    const dropped = events.stats().droppedEvents;
    assert.ok(dropped > 0 && dropped < 3_000, `dropped ${dropped}`);
    socket.resume();
    hub.push({ type: 'tick', data: { i: 'last' } });
    await until(() => received.includes('"i":"last"'), 'the last event');
    const notice = /event: dropped\ndata: \{"count":(\d+),"total":(\d+)\}/.exec(received);
    assert.ok(notice !== null, 'a dropped notice reached the client');
    assert.ok(Number(notice[1]) > 0);
    // The newest events survive: the last tick arrives, the first ones after the notice are late ones.
    assert.ok(received.includes('"i":2999'));
    socket.destroy();
    await until(() => events.stats().connections === 0, 'the slow client to be dropped');
  });

  it('server.close() ends open streams instead of hanging', async () => {
    const closing = createServer({
      auth: { tokens: [{ token: TOKENS.viewer, role: 'viewer' }] },
      port: 0,
      routes: [eventsRoutes({ source: hub.source, heartbeatMs: 60_000 })],
    });
    const url = await closing.listen();
    const ended = new Promise<void>((resolve, reject) => {
      const req = httpRequest(`${url}/api/events/stream`, { headers: { authorization: `Bearer ${TOKENS.viewer}` } }, (response) => {
        response.resume();
        response.on('end', () => resolve());
        response.on('error', reject);
      });
      req.end();
    });
    await until(() => hub.size === 1, 'the subscription');
    await closing.close();
    await ended;
    assert.equal(hub.size, 0);
  });
});
