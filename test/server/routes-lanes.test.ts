import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Kairos } from '../../src/app/kairos.js';
import { call, routeApp, waitFor } from './routes-support.js';

let app: Kairos;
before(async () => {
  app = await routeApp();
  app.local.every('1h', () => ({ warmed: 3 }), { id: 'warm-cache' });
  await app.deployments.deploy(app.engine.definitions().find((d) => d.name === 'greet')!, {
    name: 'greet-hourly',
    schedule: { cron: '0 * * * *' },
    parameters: { name: 'ops' },
  });
});
after(() => app.stop({ deadlineMs: 2_000 }));

describe('local job routes', () => {
  it('lists, shows, pauses, resumes and runs a job', async () => {
    const list = await call(app, 'GET', '/api/local/jobs');
    assert.equal(list.status, 200);
    assert.deepEqual(list.json.jobs.map((j: { id: string }) => j.id), ['warm-cache']);
    assert.equal((await call(app, 'POST', '/api/local/jobs/warm-cache/pause')).json.paused, true);
    assert.equal((await call(app, 'GET', '/api/local/jobs/warm-cache')).json.nextRunMs, null);
    assert.equal((await call(app, 'POST', '/api/local/jobs/warm-cache/resume')).json.paused, false);
    const run = await call(app, 'POST', '/api/local/jobs/warm-cache/run');
    assert.equal(run.status, 202);
    await waitFor(async () => (await call(app, 'GET', '/api/local/jobs/warm-cache')).json.runCount === 1);
    assert.deepEqual((await call(app, 'GET', '/api/local/jobs/warm-cache')).json.lastResult, { warmed: 3 });
  });

  it('answers 404 for an unknown job and 400 for a bad id', async () => {
    for (const [method, url] of [['GET', '/api/local/jobs/nope'], ['POST', '/api/local/jobs/nope/pause'], ['POST', '/api/local/jobs/nope/run']] as const) {
      const response = await call(app, method, url);
      assert.equal(response.status, 404, url);
      assert.equal(response.json.error.code, 'KAIROS_JOB_NOT_FOUND');
      assert.match(response.json.error.message, /'nope'/);
    }
    assert.equal((await call(app, 'GET', `/api/local/jobs/${'x'.repeat(201)}`)).status, 400);
  });
});

describe('deployment routes', () => {
  it('lists with next fire times, shows history, pauses, resumes, triggers and backfills', async () => {
    const list = await call(app, 'GET', '/api/deployments');
    assert.equal(list.status, 200);
    const [greet] = list.json.deployments;
    assert.equal(greet.name, 'greet-hourly');
    assert.equal(greet.nextFireTimesMs.length, 3);
    assert.equal(greet.nextFireTimesMs[0] % 3_600_000, 0, 'top of the hour');
    assert.equal((await call(app, 'POST', '/api/deployments/greet-hourly/pause')).json.paused, true);
    assert.deepEqual((await call(app, 'GET', '/api/deployments/greet-hourly')).json.nextFireTimesMs, []);
    assert.equal((await call(app, 'POST', '/api/deployments/greet-hourly/resume')).json.paused, false);
    const trigger = await call(app, 'POST', '/api/deployments/greet-hourly/trigger', { parameters: { name: 'manual' } });
    assert.equal(trigger.status, 202, JSON.stringify(trigger.json));
    assert.equal(trigger.json.state, 'Started');
    const run = await app.engine.waitForRun(trigger.json.runId, { timeoutMs: 10_000 });
    assert.deepEqual(run.params, { name: 'manual', times: 1 });
    const nowMs = Date.now();
    const backfill = await call(app, 'POST', '/api/deployments/greet-hourly/backfill', { from: new Date(nowMs - 3 * 3_600_000).toISOString(), to: nowMs - 1 });
    assert.equal(backfill.status, 200, JSON.stringify(backfill.json));
    assert.equal(backfill.json.total, 3);
    const detail = await call(app, 'GET', '/api/deployments/greet-hourly');
    assert.equal(detail.json.nextFireTimesMs.length, 10);
    assert.ok(detail.json.recentFires.some((f: { origin: string }) => f.origin === 'manual'));
    assert.ok(detail.json.recentFires.filter((f: { origin: string }) => f.origin === 'backfill').length === 3);
  });

  it('answers 404 for an unknown deployment and 400 for bad bodies', async () => {
    const missing = await call(app, 'POST', '/api/deployments/nope/trigger', {});
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'KAIROS_DEPLOYMENT_NOT_FOUND');
    assert.equal((await call(app, 'GET', '/api/deployments/nope')).status, 404);
    assert.equal((await call(app, 'POST', '/api/deployments/greet-hourly/trigger', { overlap: 'sometimes' })).status, 400);
    assert.equal((await call(app, 'POST', '/api/deployments/greet-hourly/backfill', { from: 'yesterday-ish', to: 1 })).status, 400);
    assert.equal((await call(app, 'POST', '/api/deployments/greet-hourly/backfill', { from: 1 })).status, 400);
  });
});

describe('event routes', () => {
  it('emits an event and lists it, unheard ones included', async () => {
    const emitted = await call(app, 'POST', '/api/events', { name: 'nobody.listens', payload: { n: 1 } });
    assert.equal(emitted.status, 202);
    assert.deepEqual(emitted.json.started, []);
    const list = await call(app, 'GET', '/api/events?name=nobody.listens');
    assert.equal(list.json.events[0].name, 'nobody.listens');
    assert.deepEqual(list.json.events[0].payload, { n: 1 });
    assert.equal(list.json.events[0].runsDelivered, 0);
  });

  it('answers 400 for a bad body or query', async () => {
    assert.equal((await call(app, 'POST', '/api/events', { payload: 1 })).status, 400);
    assert.equal((await call(app, 'POST', '/api/events', { name: 'x', extra: true })).status, 400);
    assert.equal((await call(app, 'GET', '/api/events?limit=0')).status, 400);
  });
});

describe('overview', () => {
  it('summarises every lane', async () => {
    const overview = await call(app, 'GET', '/api/overview');
    assert.equal(overview.status, 200);
    assert.deepEqual(overview.json.lanes.map((l: { lane: string }) => l.lane), ['local', 'queue', 'flow', 'workflow']);
    assert.ok(overview.json.lanes[0].lastHour.Completed >= 1);
    assert.ok(overview.json.lanes[2].failures24h >= 1, 'greet always ends Failed (its fail task is a leaf)');
  });
});
