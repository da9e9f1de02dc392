import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createKairos } from '../../src/app/kairos.js';
import { ping } from './fixtures/server-app.js';
import { Daemon, freePort, pollFor } from '../metrics/tools.js';
import { SERVICES, serviceSkip } from '../support/services.js';

/**
 * Two real `kairos server` processes on one PostgreSQL schema (fresh, dropped after) with a token
 * file: exactly one leads scheduling (seen on /metrics), tokens and roles are enforced, an operator
 * triggers a deployment whose run completes, and SIGTERM stops each with exit code 0.
 */
const TOKENS = { viewer: 'viewer-token-6a1f0c9e2b', operator: 'operator-token-8d2e4b7a13', admin: 'admin-token-0c5f9e3d71' };
const schema = `kairos_server_cli_${process.pid}_${Date.now().toString(36)}`;
const dir = mkdtempSync(join(tmpdir(), 'kairos-server-cli-'));
const skip = await serviceSkip('postgres', 'kairos server (two processes on PostgreSQL)');

const auth = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
const leaderOf = (metrics: string): number => Number(/^kairos_scheduler_leader (\d+)/m.exec(metrics)?.[1] ?? 'NaN');

describe('kairos server ×2 on one PostgreSQL schema', { skip }, () => {
  const servers: Array<{ daemon: Daemon; url: string; exit: Promise<number | null> }> = [];

  before(async () => {
    writeFileSync(join(dir, 'tokens.txt'), `# name:role:token\ngrafana:viewer:${TOKENS.viewer}\noncall:operator:${TOKENS.operator}\nroot:admin:${TOKENS.admin}\n`);
    // The deployment the operator triggers, created the way an app would (scheduler off: not a third contender).
    const setup = await createKairos({ store: SERVICES.postgres.url, schema, definitions: [ping], scheduler: { enabled: false }, engine: { workers: false }, queue: { workers: false } });
    await setup.deployments.deploy(ping, { name: 'ping-hourly', schedule: { cron: '0 * * * *' } });
    await setup.stop();
    for (let i = 0; i < 2; i += 1) {
      const port = await freePort();
      const daemon = new Daemon(process.execPath, [
        '--import', 'tsx', 'test/support/cli.ts', 'server',
        '--store', SERVICES.postgres.url, '--schema', schema, '--host', '127.0.0.1', '--port', String(port),
        '--token-file', join(dir, 'tokens.txt'), '--app', 'test/app/fixtures/server-app.ts',
      ]);
      servers.push({ daemon, url: `http://127.0.0.1:${port}`, exit: daemon.exitCode() });
    }
    for (const server of servers) {
      await pollFor(async () => ((await fetch(`${server.url}/healthz`)).ok ? true : undefined), `kairos server listening (${server.daemon.output})`, 600);
    }
  });

  after(async () => {
    for (const server of servers) await server.daemon.stop();
    const admin = new pg.Client({ connectionString: SERVICES.postgres.url });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('exactly one of the two reports leader on /metrics', async () => {
    const leaders = await pollFor(async () => {
      const values = await Promise.all(servers.map(async (s) => leaderOf(await (await fetch(`${s.url}/metrics`, { headers: auth(TOKENS.viewer) })).text())));
      return values.reduce((a, b) => a + b, 0) === 1 ? values : undefined;
    }, 'one leader');
    assert.deepEqual([...leaders].sort(), [0, 1]);
    // And it stays that way (no flapping between the two).
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const again = await Promise.all(servers.map(async (s) => leaderOf(await (await fetch(`${s.url}/metrics`, { headers: auth(TOKENS.viewer) })).text())));
    assert.deepEqual(again, leaders);
  });

  it('enforces tokens and roles', async () => {
    const [first] = servers;
    assert.equal((await fetch(`${first!.url}/api/overview`)).status, 401, 'no token, even on loopback');
    assert.equal((await fetch(`${first!.url}/api/overview`, { headers: auth('not-a-real-token-000000') })).status, 401);
    assert.equal((await fetch(`${first!.url}/metrics`)).status, 401);
    const overview = await fetch(`${first!.url}/api/overview`, { headers: auth(TOKENS.viewer) });
    assert.equal(overview.status, 200);
    assert.deepEqual(((await overview.json()) as { lanes: Array<{ lane: string }> }).lanes.map((l) => l.lane), ['local', 'queue', 'flow', 'workflow']);
    const viewerTrigger = await fetch(`${first!.url}/api/deployments/ping-hourly/trigger`, {
      method: 'POST',
      headers: { ...auth(TOKENS.viewer), 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(viewerTrigger.status, 403);
  });

  it('an operator triggers the deployment on one server; the run completes (any server may run it)', async () => {
    const [, second] = servers;
    const response = await fetch(`${second!.url}/api/deployments/ping-hourly/trigger`, {
      method: 'POST',
      headers: { ...auth(TOKENS.operator), 'content-type': 'application/json' },
      body: '{}',
    });
    assert.ok(response.status === 200 || response.status === 201 || response.status === 202, `trigger answered ${response.status}: ${await response.clone().text()}`);
    const fire = (await response.json()) as { runId: string | null; state: string };
    assert.ok(fire.runId !== null, `the fire started a run: ${JSON.stringify(fire)}`);
    const run = await pollFor(async () => {
      const detail = (await (await fetch(`${servers[0]!.url}/api/runs/${fire.runId!}`, { headers: auth(TOKENS.viewer) })).json()) as { run: { state: string } };
      return detail.run.state === 'Completed' ? detail.run : undefined;
    }, 'the triggered run to complete');
    assert.equal(run.state, 'Completed');
  });

  it('SIGTERM stops each server with exit code 0', async () => {
    for (const server of servers) {
      await server.daemon.stop();
      assert.equal(await server.exit, 0, server.daemon.output.slice(-2_000));
    }
  });
});
