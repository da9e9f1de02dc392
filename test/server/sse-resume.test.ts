import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { LiveEventHub } from '../../src/app/live-events.js';
import { eventsRoutes } from '../../src/server/routes/events.js';
import { createServer, type KairosServer } from '../../src/server/server.js';
import { TOKENS } from './fixture.js';

/** Last-Event-ID resume from the hub's replay ring, and the ?types= filter, over a real socket. */

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2_000 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.ok(condition(), `timed out waiting for ${what}`);
}

interface Frame {
  id: string | null;
  event: string;
  data: unknown;
}

function parseFrames(text: string): Frame[] {
  return text
    .split('\n\n')
    .filter((block) => /^event: /m.test(block))
    .map((block) => ({
      id: /^id: (.*)$/m.exec(block)?.[1] ?? null,
      event: /^event: (.*)$/m.exec(block)?.[1] ?? '',
      data: JSON.parse(/^data: (.*)$/m.exec(block)?.[1] ?? 'null') as unknown,
    }));
}

describe('SSE resume (Last-Event-ID) and ?types= filter', () => {
  const hub = new LiveEventHub(1_000, 5);
  let server: KairosServer;
  let baseUrl = '';
  before(async () => {
    server = createServer({ auth: { tokens: [{ token: TOKENS.viewer, role: 'viewer' }] }, port: 0, routes: [eventsRoutes({ source: hub.source })] });
    baseUrl = await server.listen();
  });
  after(async () => {
    hub.close();
    await server.close();
  });

  function open(query = '', headers: Record<string, string> = {}): Promise<{ response: IncomingMessage; frames: () => Frame[] }> {
    return new Promise((resolve, reject) => {
      const req = httpRequest(`${baseUrl}/api/events/stream${query}`, { headers: { authorization: `Bearer ${TOKENS.viewer}`, ...headers } }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        resolve({ response, frames: () => parseFrames(text) });
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('numbers events with the hub id and replays the missed ones after Last-Event-ID', async () => {
    const first = await open();
    await until(() => hub.subscriberCount === 1, 'the subscription');
    for (let i = 1; i <= 3; i += 1) hub.publish('run.state', { i });
    await until(() => first.frames().length === 3, 'three events');
    const ids = first.frames().map((f) => f.id);
    const [epoch, last] = hub.lastEventId.split('-') as [string, string];
    assert.deepEqual(ids, [`${epoch}-${Number(last) - 2}`, `${epoch}-${Number(last) - 1}`, hub.lastEventId]);
    const lastSeen = ids[1]!;
    first.response.destroy();
    await until(() => hub.subscriberCount === 0, 'the first client to go');

    hub.publish('run.state', { i: 4 }); // published while the client was away
    const resumed = await open('', { 'last-event-id': lastSeen });
    await until(() => resumed.frames().length === 2, 'the replayed events');
    assert.deepEqual(resumed.frames().map((f) => (f.data as { i: number }).i), [3, 4], 'exactly the events after Last-Event-ID, in order, none twice');
    hub.publish('run.state', { i: 5 });
    await until(() => resumed.frames().length === 3, 'the live event after the replay');
    assert.equal((resumed.frames()[2]!.data as { i: number }).i, 5);
    resumed.response.destroy();
  });

  it('tells a client whose Last-Event-ID is older than the ring (or unknown) to refetch', async () => {
    const old = hub.lastEventId;
    for (let i = 0; i < 8; i += 1) hub.publish('tick', { i }); // the ring keeps 5
    const behind = await open(`?lastEventId=${old}`);
    await until(() => behind.frames().length === 6, 'a notice and the kept events');
    const [notice, ...kept] = behind.frames();
    assert.equal(notice!.event, 'dropped');
    assert.equal(notice!.id, null, 'a notice carries no id, so the client keeps its last real one');
    assert.deepEqual(notice!.data, { count: 3, total: 3, reason: 'older than the replay buffer: refetch' });
    assert.deepEqual(kept.map((f) => (f.data as { i: number }).i), [3, 4, 5, 6, 7]);
    behind.response.destroy();

    const stranger = await open('', { 'last-event-id': `${hub.lastEventId.split('-')[0]!}-999999999` });
    await until(() => stranger.frames().length === 1, 'the notice');
    assert.equal(stranger.frames()[0]!.event, 'dropped');
    const restarted = await open('', { 'last-event-id': 'zz0-3' }); // another process's epoch
    await until(() => restarted.frames().length === 1, 'the notice for a foreign id');
    assert.equal(restarted.frames()[0]!.event, 'dropped');
    restarted.response.destroy();
    stranger.response.destroy();
    await until(() => hub.subscriberCount === 0, 'the clients to go');
  });

  it('?types= sends only the listed types and prefixes', async () => {
    const client = await open('?types=run.state,queue.*');
    await until(() => hub.subscriberCount === 1, 'the subscription');
    hub.publish('local.job_executed', { n: 1 });
    hub.publish('queue.job_dead', { n: 2 });
    hub.publish('run.state', { n: 3 });
    hub.publish('run.log', { n: 4 });
    hub.publish('queue.job_completed', { n: 5 });
    await until(() => client.frames().length === 3, 'the matching events');
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.deepEqual(client.frames().map((f) => f.event), ['queue.job_dead', 'run.state', 'queue.job_completed']);
    client.response.destroy();
  });

  it('refuses a malformed ?types= with 400', async () => {
    const response = await server.app.inject({ method: 'GET', url: '/api/events/stream?types=run.state,%0Aevil', headers: { authorization: `Bearer ${TOKENS.viewer}` } });
    assert.equal(response.statusCode, 400);
  });
});
