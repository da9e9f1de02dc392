import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { ConfigError } from '../../../src/errors.js';
import type { Job } from '../../../src/queue/contract.js';
import { createCloudTasksProvider, type CloudTasksProvider } from '../../../src/queue/providers/cloudtasks.js';
import { createCloudTasksReceiver, type CloudTasksReceiver } from '../../../src/queue/providers/cloudtasks/receiver.js';
import { queueIdOf, taskFor, taskIdOf } from '../../../src/queue/providers/cloudtasks/tasks.js';
import { runQueueProviderContract } from '../../contract/queue-provider.js';
import { runQueueRuntimeContract } from '../../contract/queue-runtime.js';
import { recordSkip } from '../../support/services.js';
import { tempLedgerStore } from './broker-support.js';

/**
 * The Cloud Tasks provider. The contract suites need a Cloud Tasks endpoint that can push to this
 * machine — an emulator: set KAIROS_TEST_CLOUDTASKS_PROJECT, KAIROS_TEST_CLOUDTASKS_LOCATION,
 * KAIROS_TEST_CLOUDTASKS_TARGET_URL (an http://127.0.0.1:<port>/ URL this file listens on) and
 * CLOUD_TASKS_EMULATOR_HOST (host:port). Without them they are skipped by name. The receiver (real
 * HTTP on 127.0.0.1), the task builder and the option checks need no Google endpoint and always run.
 */
const env = {
  project: process.env.KAIROS_TEST_CLOUDTASKS_PROJECT,
  location: process.env.KAIROS_TEST_CLOUDTASKS_LOCATION,
  targetUrl: process.env.KAIROS_TEST_CLOUDTASKS_TARGET_URL,
  emulatorHost: process.env.CLOUD_TASKS_EMULATOR_HOST,
};
const missing = Object.entries({
  KAIROS_TEST_CLOUDTASKS_PROJECT: env.project,
  KAIROS_TEST_CLOUDTASKS_LOCATION: env.location,
  KAIROS_TEST_CLOUDTASKS_TARGET_URL: env.targetUrl,
  CLOUD_TASKS_EMULATOR_HOST: env.emulatorHost,
})
  .filter(([, value]) => value === undefined || value === '')
  .map(([name]) => name);
const skip: string | false = missing.length === 0 ? false : `${missing.join(', ')} not set (no Cloud Tasks emulator on this machine)`;
if (skip !== false) recordSkip(`cloudtasks provider: ${skip}`);

const { store, dispose } = tempLedgerStore('cloudtasks');

// For the contract runs: one HTTP server at the target URL hands each push to an open provider's
// receiver, round robin (several providers may serve one queue, as several workers would).
const live: CloudTasksProvider[] = [];
let pushServer: Server | undefined;
let turn = 0;
if (skip === false) {
  const url = new URL(env.targetUrl!);
  pushServer = createServer((req, res) => {
    const open = live.filter((p) => !p.receiver.isClosed);
    const target = open[(turn += 1) % Math.max(1, open.length)];
    if (target === undefined) {
      res.writeHead(503).end();
      return;
    }
    target.receiver.handle(req, res);
  });
  await new Promise<void>((resolve) => pushServer!.listen(Number(url.port), url.hostname, resolve));
}

after(async () => {
  if (pushServer !== undefined) await new Promise<void>((resolve) => pushServer.close(() => resolve()));
  await dispose();
});

function makeProvider(): Promise<CloudTasksProvider> {
  const provider = createCloudTasksProvider({
    project: env.project!,
    location: env.location!,
    targetUrl: env.targetUrl!,
    emulatorHost: env.emulatorHost!,
    queuePrefix: `kt-${randomUUID().slice(0, 8)}`,
    dispatchDeadlineMs: 60_000,
    store,
  });
  live.push(provider);
  return Promise.resolve(provider);
}

runQueueProviderContract('cloudtasks', makeProvider, { skip });
runQueueRuntimeContract('cloudtasks', makeProvider, { skip });

// ---- the receiver, over real HTTP on 127.0.0.1 ----

interface Reply {
  status: number;
  body: string;
}

function baseJob(overrides: Partial<Job> = {}): Job {
  return {
    id: randomUUID(),
    queue: 'emails',
    name: 'email.send',
    payload: { to: 'ops@example.com' },
    dedupKey: null,
    priority: 0,
    runAtMs: Date.now(),
    attempt: 0,
    maxAttempts: 3,
    backoff: null,
    timeoutMs: null,
    metadata: {},
    createdAtMs: Date.now(),
    lastError: null,
    ...overrides,
  };
}

describe('cloudtasks receiver (real HTTP, no Google endpoint)', () => {
  let server: Server;
  let port = 0;
  let receiver: CloudTasksReceiver;
  const open = new Set<{ destroy: () => void }>();

  before(async () => {
    server = createServer((req, res) => receiver.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    port = typeof address === 'object' && address !== null ? address.port : 0;
  });
  after(async () => {
    for (const r of open) r.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  /** Sends a push as Cloud Tasks would; resolves with the answer whenever the receiver gives it. */
  function push(body: unknown, headers: Record<string, string> = {}, method = 'POST'): { reply: Promise<Reply>; abort: () => void } {
    let abort: () => void = () => undefined;
    const reply = new Promise<Reply>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method, path: '/tasks', agent: false, headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => {
          open.delete(req);
          resolve({ status: res.statusCode ?? 0, body: text });
        });
      });
      open.add(req);
      req.on('error', (error) => {
        open.delete(req);
        reject(error);
      });
      abort = () => req.destroy();
      // A GET carries no body (Node would send it unframed, and it would read as the next request).
      if (method === 'GET') req.end();
      else req.end(typeof body === 'string' ? body : JSON.stringify(body));
    });
    reply.catch(() => undefined);
    return { reply, abort: () => abort() };
  }

  it('turns a push into a lease; ack answers 200; attempt = carried attempts + retry count + 1', async () => {
    receiver = createCloudTasksReceiver();
    const job = baseJob({ attempt: 1 });
    const sent = push(job, { 'X-CloudTasks-TaskRetryCount': '2' });
    const [taken] = await receiver.take('emails', 5, 30_000, 5_000);
    assert.ok(taken !== undefined);
    assert.equal(taken.job.id, job.id);
    assert.deepEqual(taken.job.payload, job.payload);
    assert.equal(taken.attempt, 4);
    assert.equal(receiver.leasedCount('emails'), 1);
    assert.equal(receiver.settle(taken.token, 'ack'), true);
    assert.deepEqual(await sent.reply, { status: 200, body: 'done' });
    assert.equal(receiver.settle(taken.token, 'ack'), false, 'a second settle of one push does nothing');
    assert.equal(receiver.leasedCount('emails'), 0);
  });

  it('answers 503 on retry (Cloud Tasks delivers again) and 200 on dead letter (it stops)', async () => {
    receiver = createCloudTasksReceiver();
    const a = push(baseJob());
    const b = push(baseJob());
    const taken = await takeN(receiver, 'emails', 2);
    receiver.settle(taken[0]!.token, 'retry', 'boom');
    receiver.settle(taken[1]!.token, 'dead', 'poison');
    const replies = await Promise.all([a.reply, b.reply]);
    assert.deepEqual(replies.map((r) => r.status).sort(), [200, 503]);
    assert.ok(replies.some((r) => /boom/.test(r.body)));
  });

  it('answers 503 when a lease runs out, and the late settle reports the lease lost', async () => {
    receiver = createCloudTasksReceiver();
    const sent = push(baseJob());
    const [taken] = await receiver.take('emails', 1, 50, 5_000);
    assert.ok(taken !== undefined);
    // The next take (any queue) answers expired leases first.
    assert.deepEqual(await receiver.take('emails', 1, 50, 200), []);
    assert.equal((await sent.reply).status, 503);
    assert.equal(receiver.settle(taken.token, 'ack'), false);
    assert.equal(receiver.extend(taken.token, 1_000), false);
  });

  it('keeps a lease that is extended', async () => {
    receiver = createCloudTasksReceiver();
    const sent = push(baseJob());
    const [taken] = await receiver.take('emails', 1, 150, 5_000);
    assert.ok(taken !== undefined);
    for (let i = 0; i < 4; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 60));
      assert.equal(receiver.extend(taken.token, 150), true);
      await receiver.take('emails', 1, 150, 0);
    }
    assert.equal(receiver.settle(taken.token, 'ack'), true);
    assert.equal((await sent.reply).status, 200);
  });

  it('loses the lease when Cloud Tasks hangs up (dispatch deadline), and drops an unleased push', async () => {
    receiver = createCloudTasksReceiver();
    const first = push(baseJob());
    const [taken] = await receiver.take('emails', 1, 30_000, 5_000);
    assert.ok(taken !== undefined);
    first.abort();
    const second = push(baseJob({ queue: 'other' }));
    await waitUntil(() => receiver.waitingCount('other') === 1);
    second.abort();
    await waitUntil(() => receiver.leasedCount('emails') === 0 && receiver.waitingCount('other') === 0);
    assert.equal(receiver.extend(taken.token, 1_000), false);
    assert.deepEqual(await receiver.take('other', 1, 1_000, 0), []);
  });

  it('keeps queues apart, wakes a long-poll on a push, and returns [] when the poll is aborted', async () => {
    receiver = createCloudTasksReceiver();
    const polling = receiver.take('reports', 1, 30_000, 10_000);
    const sent = push(baseJob({ queue: 'reports' }));
    const [taken] = await polling;
    assert.equal(taken?.job.queue, 'reports');
    assert.deepEqual(await receiver.take('emails', 1, 30_000, 0), []);
    receiver.settle(taken.token, 'ack');
    await sent.reply;
    const controller = new AbortController();
    const aborted = receiver.take('reports', 1, 30_000, 10_000, controller.signal);
    controller.abort();
    assert.deepEqual(await aborted, []);
  });

  it('refuses a wrong method, a bad body, an oversized body and a missing secret, naming why', async () => {
    receiver = createCloudTasksReceiver({ secret: 's3cret', maxBodyBytes: 2_000 });
    const job = baseJob();
    assert.equal((await push(job, { 'X-Kairos-Token': 's3cret' }, 'GET').reply).status, 405);
    const noSecret = await push(job).reply;
    assert.equal(noSecret.status, 401);
    assert.match(noSecret.body, /X-Kairos-Token/);
    assert.equal((await push(job, { 'X-Kairos-Token': 'wrong!' }).reply).status, 401);
    assert.equal((await push('not json', { 'X-Kairos-Token': 's3cret' }).reply).status, 400);
    assert.equal((await push({ hello: 'world' }, { 'X-Kairos-Token': 's3cret' }).reply).status, 400);
    const big = await push(baseJob({ payload: 'x'.repeat(5_000) }), { 'X-Kairos-Token': 's3cret' }).reply;
    assert.equal(big.status, 413);
    assert.match(big.body, /2000 bytes/);
    const ok = push(job, { 'X-Kairos-Token': 's3cret' });
    const [taken] = await receiver.take('emails', 1, 30_000, 5_000);
    receiver.settle(taken!.token, 'ack');
    assert.equal((await ok.reply).status, 200);
  });

  it('answers every open push 503 on close, and refuses new ones', async () => {
    receiver = createCloudTasksReceiver();
    const leased = push(baseJob());
    await receiver.take('emails', 1, 30_000, 5_000);
    const waiting = push(baseJob());
    await waitUntil(() => receiver.waitingCount('emails') === 1);
    receiver.close();
    assert.equal((await leased.reply).status, 503);
    assert.equal((await waiting.reply).status, 503);
    assert.equal((await push(baseJob()).reply).status, 503);
    assert.equal(receiver.isClosed, true);
  });
});

async function takeN(receiver: CloudTasksReceiver, queue: string, n: number) {
  const taken = [];
  const deadline = Date.now() + 5_000;
  while (taken.length < n && Date.now() < deadline) taken.push(...(await receiver.take(queue, n - taken.length, 30_000, 1_000)));
  assert.equal(taken.length, n);
  return taken;
}

async function waitUntil(predicate: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// ---- the task builder and options ----

describe('cloudtasks tasks and options (no Google endpoint)', () => {
  it('derives task and queue ids Cloud Tasks accepts, stable per job id', () => {
    assert.equal(taskIdOf('job-1_A'), 'job-1_A');
    const hashed = taskIdOf('emails/2024-01-01T00:00:00Z');
    assert.match(hashed, /^h_[0-9a-f]{64}$/);
    assert.equal(taskIdOf('emails/2024-01-01T00:00:00Z'), hashed, 'stable: the same id makes the same name (native dedup)');
    assert.notEqual(taskIdOf('a', '-a1'), taskIdOf('a'));
    assert.equal(queueIdOf('kairos', 'daily_backup.v2'), 'kairos-daily-backup-v2');
    assert.ok(queueIdOf('kairos', 'q'.repeat(300)).length <= 100);
  });

  it('builds an HTTP POST task of the job, due at its run time, with OIDC and the secret when set', () => {
    const job = baseJob({ id: 'j1', runAtMs: 1_700_000_000_123 });
    const task = taskFor('projects/p/locations/l/queues/q', job, {
      url: 'https://worker.example.com/tasks',
      dispatchDeadlineMs: 600_000,
      serviceAccountEmail: 'tasks@p.iam.gserviceaccount.com',
      secret: 'k',
    });
    assert.equal(task.name, 'projects/p/locations/l/queues/q/tasks/j1');
    assert.deepEqual(task.scheduleTime, { seconds: 1_700_000_000, nanos: 123_000_000 });
    assert.deepEqual(task.dispatchDeadline, { seconds: 600 });
    assert.equal(task.httpRequest?.httpMethod, 'POST');
    assert.equal(task.httpRequest?.url, 'https://worker.example.com/tasks');
    assert.equal(task.httpRequest?.headers?.['X-Kairos-Token'], 'k');
    assert.deepEqual(task.httpRequest?.oidcToken, { serviceAccountEmail: 'tasks@p.iam.gserviceaccount.com', audience: 'https://worker.example.com/tasks' });
    assert.deepEqual(JSON.parse(Buffer.from(task.httpRequest.body as Uint8Array).toString('utf8')), job);
  });

  it('names the field when project/location, targetUrl, dispatchDeadlineMs or the ledger are wrong', () => {
    const ok = { project: 'p', location: 'l', targetUrl: 'https://x.example.com/t', store };
    assert.throws(() => createCloudTasksProvider({ ...ok, project: undefined }), (e: unknown) => e instanceof ConfigError && /project/.test(e.message));
    assert.throws(() => createCloudTasksProvider({ ...ok, parent: 'nonsense' }), ConfigError);
    assert.throws(() => createCloudTasksProvider({ ...ok, targetUrl: 'ftp://x' }), (e: unknown) => e instanceof ConfigError && /targetUrl/.test(e.message));
    assert.throws(() => createCloudTasksProvider({ ...ok, dispatchDeadlineMs: 1_000 }), ConfigError);
    assert.throws(() => createCloudTasksProvider({ ...ok, store: undefined }), (e: unknown) => e instanceof ConfigError && /store/.test(e.message));
    const provider = createCloudTasksProvider({ ...ok, parent: 'projects/p/locations/l', project: undefined, location: undefined });
    assert.equal(provider.name, 'cloudtasks');
    assert.equal(provider.capabilities.nativeDelay, true);
  });
});
