import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Kairos } from '../../src/app/kairos.js';
import { createKairos } from '../../src/app/kairos.js';
import { pageSql } from '../../src/app/run-listing.js';
import { call, routeApp, waitFor } from './routes-support.js';

let app: Kairos;
before(async () => {
  app = await routeApp();
});
after(() => app.stop({ deadlineMs: 2_000 }));

describe('flow and workflow routes', () => {
  it('lists flows with their graph, starts a run, and shows it in the grid', async () => {
    const flows = await call(app, 'GET', '/api/flows');
    assert.equal(flows.status, 200);
    const greet = flows.json.flows.find((f: { name: string }) => f.name === 'greet');
    assert.deepEqual(greet.graph.edges, [{ from: 'names', to: 'hello' }]);
    const started = await call(app, 'POST', '/api/flows/greet/runs', { params: { name: 'ada', times: 2 } });
    assert.equal(started.status, 201, JSON.stringify(started.json));
    await app.engine.waitForRun(started.json.runId, { timeoutMs: 10_000 });
    const detail = await call(app, 'GET', '/api/flows/greet');
    assert.equal(detail.json.grid[0].run.id, started.json.runId);
    assert.deepEqual(detail.json.grid[0].tasks, { names: 'Completed', hello: 'Completed', fail: 'Failed' });
  });

  it('answers 400 with the zod issues for bad parameters, 404 for unknown names', async () => {
    const bad = await call(app, 'POST', '/api/flows/greet/runs', { params: { times: -1 } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'KAIROS_INVALID_PARAMETERS');
    assert.deepEqual(bad.json.error.details.issues.map((i: { path: string }) => i.path).sort(), ['name', 'times']);
    assert.equal((await call(app, 'POST', '/api/flows/greet/runs', { parameters: {} })).status, 400);
    for (const url of ['/api/flows/nope', '/api/workflows/nope']) {
      const missing = await call(app, 'GET', url);
      assert.equal(missing.status, 404);
      assert.equal(missing.json.error.code, 'KAIROS_DEFINITION_NOT_FOUND');
    }
    assert.equal((await call(app, 'POST', '/api/flows/approval/runs', {})).status, 404, 'a workflow is not a flow');
    assert.equal((await call(app, 'POST', '/api/workflows/approval/runs', { input: { id: 7 } })).status, 400);
  });

  it('starts a workflow, signals it, and shows its steps and timeline', async () => {
    assert.deepEqual((await call(app, 'GET', '/api/workflows')).json.workflows, [{ name: 'approval', description: null }]);
    const started = await call(app, 'POST', '/api/workflows/approval/runs', { input: { id: 'po-7' } });
    assert.equal(started.status, 201);
    const runId = started.json.runId as string;
    await waitFor(async () => (await call(app, 'GET', `/api/runs/${runId}`)).json.run.state === 'Waiting');
    assert.equal((await call(app, 'POST', `/api/runs/${runId}/signals`, { name: 'decide', payload: { ok: true } })).status, 202);
    const run = await app.engine.waitForRun(runId, { timeoutMs: 10_000 });
    assert.deepEqual(run.result, { id: 'po-7', ok: true });
    const detail = await call(app, 'GET', `/api/runs/${runId}`);
    assert.equal(detail.json.steps[0].key, '$signal:decide#1');
    assert.ok(detail.json.timeline.some((e: { type: string }) => e.type === 'signal'));
    assert.equal((await call(app, 'GET', '/api/workflows/approval')).json.runs[0].id, runId);
    const late = await call(app, 'POST', `/api/runs/${runId}/signals`, { name: 'decide' });
    assert.equal(late.status, 400);
    assert.equal(late.json.error.code, 'KAIROS_INVALID_RUN_STATE');
  });
});

describe('run routes', () => {
  it('shows a failed run with its errors (stack included) and logs, retries and cancels', async () => {
    const { runId } = await app.engine.run('greet', { name: 'bob' });
    await app.engine.waitForRun(runId, { timeoutMs: 10_000 });
    const detail = await call(app, 'GET', `/api/runs/${runId}`);
    assert.equal(detail.json.run.state, 'Failed');
    const fail = detail.json.steps.find((s: { key: string }) => s.key === 'fail');
    assert.equal(fail.error.message, 'boom');
    assert.match(fail.error.stack, /Error: boom/);
    assert.ok(detail.json.steps.find((s: { key: string }) => s.key === 'hello[0]').durationMs >= 0);
    const retried = await call(app, 'POST', `/api/runs/${runId}/retry`);
    assert.equal(retried.status, 200);
    assert.equal(retried.json.attempt, 2);
    const waiting = await app.engine.run('approval', { id: 'x' });
    const cancelled = await call(app, 'POST', `/api/runs/${waiting.runId}/cancel`);
    assert.equal(cancelled.json.state, 'Cancelled');
  });

  it('answers 404 for unknown runs and 400 for bad queries', async () => {
    for (const [method, url] of [['GET', '/api/runs/nope'], ['POST', '/api/runs/nope/cancel'], ['POST', '/api/runs/nope/retry']] as const) {
      const response = await call(app, method, url);
      assert.equal(response.status, 404, url);
      assert.equal(response.json.error.code, 'KAIROS_RUN_NOT_FOUND');
    }
    assert.equal((await call(app, 'POST', '/api/runs/nope/signals', { name: 'x' })).status, 404);
    assert.equal((await call(app, 'GET', '/api/runs?state=Sleeping')).status, 400);
    assert.equal((await call(app, 'GET', '/api/runs?limit=501')).status, 400);
    const cursor = await call(app, 'GET', '/api/runs?cursor=not-a-cursor');
    assert.equal(cursor.status, 400);
    assert.match(cursor.json.error.message, /nextCursor/);
  });

  it('pages through runs newest first with a keyset cursor, filtered by kind, name and state', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { json: { runs: Array<{ id: string; createdMs: number }>; nextCursor: string | null } } = await call(app, 'GET', `/api/runs?kind=flow&limit=2${cursor === null ? '' : `&cursor=${cursor}`}`);
      seen.push(...page.json.runs.map((r) => r.id));
      cursor = page.json.nextCursor;
    } while (cursor !== null);
    const all = await app.engine.listRuns({ kind: 'flow', limit: 1000 });
    assert.deepEqual(seen, all.map((r) => r.id), 'every flow run once, newest first');
    const failed = await call(app, 'GET', '/api/runs?name=greet&state=Failed');
    assert.ok(failed.json.runs.length >= 1);
    assert.ok(failed.json.runs.every((r: { state: string; name: string }) => r.state === 'Failed' && r.name === 'greet'));
  });
});

describe('run listing on 100 000 runs', () => {
  it('answers every page shape from an index (no table scan, no sort step)', async () => {
    const big = await createKairos({ store: ':memory:' });
    try {
      if (big.store.dialect !== 'sqlite') throw new Error('unreachable');
      const db = big.store.db;
      const insert = db.prepare(
        "INSERT INTO engine_runs (id, kind, name, state, created_ms, scheduled_ms, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
      );
      const states = ['Completed', 'Failed', 'Running', 'Pending'];
      db.transaction(() => {
        for (let i = 0; i < 100_000; i += 1) {
          const ms = 1_700_000_000_000 + Math.floor(i / 3);
          insert.run(randomUUID(), i % 2 === 0 ? 'flow' : 'workflow', `job-${i % 50}`, states[i % 4], ms, ms, ms);
        }
      })();
      db.exec('ANALYZE');
      const pager = (await import('../../src/app/run-listing.js')).createRunPager(big.store);
      let page = await pager.page({ limit: 100 });
      for (let i = 0; i < 5; i += 1) page = await pager.page({ limit: 100, cursor: page.nextCursor! });
      assert.equal(page.runs.length, 100);
      for (const request of [
        { limit: 50 },
        { limit: 50, kind: 'flow' as const },
        { limit: 50, state: 'Failed' },
        { limit: 50, name: 'job-7' },
        { limit: 50, kind: 'workflow' as const, cursor: page.nextCursor! },
      ]) {
        const { sql, args } = pageSql(request);
        const plan = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...args) as Array<{ detail: string }>).map((r) => r.detail).join(' | ');
        assert.match(plan, /USING (COVERING )?INDEX engine_runs_/, `${JSON.stringify(request)}: ${plan}`);
        assert.doesNotMatch(plan, /TEMP B-TREE/, `${JSON.stringify(request)} sorts: ${plan}`);
      }
    } finally {
      await big.stop();
    }
  });
});

describe('queue and worker routes', () => {
  it('shows depth, dead letters (list, show, replay, purge), jobs by state and workers', async () => {
    const dead = await app.queue.queue('mail').add('demo.fail', { to: 'x' }, { maxAttempts: 1 });
    await waitFor(async () => (await call(app, 'GET', '/api/queues')).json.queues.find((q: { queue: string }) => q.queue === 'mail').dead === 1);
    const list = await call(app, 'GET', '/api/queues/mail/dead-letters');
    assert.equal(list.json.deadLetters[0].job.id, dead.id);
    assert.match(list.json.deadLetters[0].error, /always fails/);
    assert.deepEqual((await call(app, 'GET', `/api/queues/mail/dead-letters/${dead.id}`)).json.job.payload, { to: 'x' });
    const delayed = await app.queue.queue('mail').add('demo.ok', null, { delayMs: 60_000 });
    const jobs = await call(app, 'GET', '/api/queues/mail/jobs?state=delayed');
    assert.equal(jobs.json.inspectable, true);
    assert.deepEqual(jobs.json.jobs.map((j: { id: string }) => j.id), [delayed.id]);
    assert.equal((await call(app, 'POST', '/api/queues/mail/dead-letters/replay', { ids: [dead.id] })).json.replayed, 1);
    await waitFor(async () => (await call(app, 'GET', '/api/queues/mail/dead-letters')).json.deadLetters.length === 1);
    assert.equal((await call(app, 'DELETE', '/api/queues/mail/dead-letters', {})).json.purged, 1);
    const workers = await call(app, 'GET', '/api/workers');
    assert.equal(workers.status, 200);
    assert.deepEqual(workers.json.queueWorkers[0].queues, ['default', 'mail']);
    assert.equal(workers.json.engineWorkers[0].local, true);
  });

  it('answers 404 for unknown queues and dead letters, 400 for bad input', async () => {
    const queue = await call(app, 'GET', '/api/queues/nope/dead-letters');
    assert.equal(queue.status, 404);
    assert.equal(queue.json.error.code, 'KAIROS_QUEUE_NOT_FOUND');
    assert.equal((await call(app, 'GET', '/api/queues/mail/dead-letters?provider=redis')).status, 404);
    const letter = await call(app, 'GET', '/api/queues/mail/dead-letters/nope');
    assert.equal(letter.status, 404);
    assert.equal(letter.json.error.code, 'KAIROS_QUEUE_JOB_NOT_FOUND');
    assert.equal((await call(app, 'GET', '/api/queues/mail/jobs?state=sleeping')).status, 400);
    assert.equal((await call(app, 'POST', '/api/queues/mail/dead-letters/replay', { ids: 'all' })).status, 400);
  });
});

describe('the built UI', () => {
  it('is served at / with an SPA fallback, never for /api paths, and never outside its folder', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kairos-ui-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Kairos</title>');
    writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
    const ui = await createKairos({ store: ':memory:', http: { auth: { allowAnonymousLoopback: true }, uiDir: dir } });
    try {
      const get = (url: string) => ui.server!.app.inject({ method: 'GET', url, headers: { host: '127.0.0.1' } });
      const index = await get('/');
      assert.equal(index.statusCode, 200);
      assert.match(index.headers['content-type'] as string, /text\/html/);
      assert.match(index.headers['content-security-policy'] as string, /default-src 'self'/);
      const asset = await get('/assets/app.js');
      assert.match(asset.headers['content-type'] as string, /javascript/);
      assert.match(asset.headers['cache-control'] as string, /immutable/);
      assert.equal((await get('/runs/abc')).body, index.body, 'SPA route falls back to index.html');
      assert.equal((await get('/..%2F..%2Fetc%2Fpasswd')).body, index.body);
      const api = await get('/api/nothing-here');
      assert.equal(api.statusCode, 404);
      assert.equal(JSON.parse(api.body).error.code, 'KAIROS_ROUTE_NOT_FOUND');
      assert.equal((await get('/api/overview')).statusCode, 200, 'API routes still win');
    } finally {
      await ui.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
