import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { createDeployments } from '../../../src/engine/deployments/deployments.js';
import { createEngine } from '../../../src/engine/runtime/engine.js';
import { openSqliteStore } from '../../../src/store/sqlite/open.js';

const run = promisify(execFile);
const cli = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'test/support/cli.ts', ...args]);

describe('kairos deployments / emit / backfill', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kairos-cli-deploy-'));
  const path = join(dir, 'store.db');
  const app = 'test/engine/deployments/support/app.ts';
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists, pauses, resumes, triggers, emits and backfills against one store', async () => {
    const store = openSqliteStore({ path });
    const engine = createEngine({ store });
    const deployments = createDeployments({ store, launcher: engine });
    await deployments.deploy({ kind: 'flow', name: 'etl' }, { name: 'etl-daily', schedule: { cron: '0 2 * * *' }, overlap: 'allow_all' });
    await deployments.deploy({ kind: 'flow', name: 'etl' }, { name: 'etl-on-upload', on: { event: 'file.uploaded' } });
    deployments.close();
    await store.close();

    const ls = JSON.parse((await cli('deployments', 'ls', '--store', path, '--json')).stdout) as { name: string; paused: boolean; nextFireMs: number }[];
    assert.deepEqual(ls.map((d) => d.name), ['etl-daily', 'etl-on-upload']);
    assert.ok((ls[0]?.nextFireMs ?? 0) > Date.now());
    assert.match((await cli('deployments', 'pause', 'etl-daily', '--store', path)).stdout, /etl-daily: paused/);
    const paused = JSON.parse((await cli('deployments', 'ls', '--store', path, '--json')).stdout) as { paused: boolean }[];
    assert.equal(paused[0]?.paused, true);
    await cli('deployments', 'resume', 'etl-daily', '--store', path);
    const triggered = JSON.parse((await cli('deployments', 'trigger', 'etl-daily', '--store', path, '--app', app, '--json')).stdout) as { state: string; runId: string };
    assert.equal(triggered.state, 'Started');
    const emitted = JSON.parse((await cli('emit', 'file.uploaded', '--payload', '{"name":"a.csv"}', '--store', path, '--app', app, '--json')).stdout) as {
      started: { deployment: string }[];
    };
    assert.deepEqual(emitted.started.map((s) => s.deployment), ['etl-on-upload']);
    const from = new Date(Date.now() - 5 * 86_400_000).toISOString().slice(0, 10);
    const to = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const backfill = JSON.parse((await cli('backfill', 'etl-daily', '--from', from, '--to', `${to}T23:59:59Z`, '--store', path, '--app', app, '--json')).stdout) as {
      total: number;
      started: number;
    };
    assert.equal(backfill.total, 5);
    assert.equal(backfill.started, 5);
    const again = JSON.parse((await cli('backfill', 'etl-daily', '--from', from, '--to', `${to}T23:59:59Z`, '--store', path, '--app', app, '--json')).stdout) as {
      existing: number;
    };
    assert.equal(again.existing, 5, 'idempotent');
    const bad = await cli('deployments', 'pause', 'nope', '--store', path).catch((e: { code: number; stderr: string }) => e);
    assert.equal((bad as { code: number }).code, 2);
    assert.match((bad as { stderr: string }).stderr, /KAIROS_DEPLOYMENT_NOT_FOUND/);

    const check = openSqliteStore({ path });
    const runs = await createEngine({ store: check }).listRuns({});
    assert.equal(runs.length, 7, '1 trigger + 1 event + 5 backfill');
    await check.close();
  });
});
