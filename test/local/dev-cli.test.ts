import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createLocalJobRepository } from '../../src/local/repository.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';

const dir = mkdtempSync(join(tmpdir(), 'kairos-dev-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `kairos dev` from source; `onOutput` may act on what it prints (send a signal…). */
function runDev(args: string[], onOutput?: (stdout: string, child: ReturnType<typeof spawn>) => void): Promise<Exit> {
  return new Promise((resolve, reject) => {
    // --port 0: the default 4000 may be taken (another kairos dev, a parallel test file).
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/cli.ts', 'dev', '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      onOutput?.(stdout, child);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('kairos dev', () => {
  it('--fast --duration 2: starts the maintenance jobs on SQLite, fires them, prints status, exits 0', async () => {
    const db = join(dir, 'duration.db');
    const result = await runDev(['--fast', '--duration', '2', '--status-every', '1', '--db', db]);
    assert.equal(result.code, 0, result.stderr);
    // Listed soonest first: where the 2 s cron cleanup falls depends on the clock.
    assert.match(result.stdout, /\[local\] started 6 jobs: .*heartbeat \(every 100ms\), .*health-check \(every 300ms\)/);
    const heartbeats = result.stdout.split('\n').filter((line) => line.includes('[local] heartbeat ✓'));
    assert.ok(heartbeats.length >= 10, `heartbeat every 100 ms for 2 s, saw ${heartbeats.length}`);
    assert.match(result.stdout, /\[local\] health-check ✓ .*"status":"ok"/);
    assert.match(result.stdout, /\[status\] local: 6 jobs · next .* · runs \d+ · missed 0 · misfits 0/);
    assert.match(result.stdout, /\[local\] stopped/);

    const store = openSqliteStore({ path: db });
    const rows = await createLocalJobRepository(store).loadAll();
    await store.close();
    assert.deepEqual(rows.map((r) => r.id).sort(), ['cache-cleanup', 'cache-warming', 'health-check', 'heartbeat', 'metrics', 'security-scan']);
    assert.ok((rows.find((r) => r.id === 'heartbeat')?.runCount ?? 0) >= 10, 'the dev store keeps the schedules and counters');
  });

  it('stops cleanly on SIGTERM (stop with a deadline, then exit 0)', async () => {
    let sent = false;
    const result = await runDev(['--fast', '--db', join(dir, 'sigterm.db')], (stdout, child) => {
      if (!sent && (stdout.match(/heartbeat ✓/g) ?? []).length >= 3) {
        sent = true;
        child.kill('SIGTERM');
      }
    });
    assert.equal(sent, true);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /stopping \(SIGTERM\)/);
    assert.match(result.stdout, /\[local\] stopped/);
  });

  it('--once runs every job once and exits', async () => {
    const result = await runDev(['--once', '--db', join(dir, 'once.db')]);
    assert.equal(result.code, 0, result.stderr);
    for (const id of ['heartbeat', 'health-check', 'metrics', 'cache-warming', 'cache-cleanup']) {
      assert.match(result.stdout, new RegExp(`\\[local\\] ${id} ✓`));
    }
  });

  it('rejects a bad --duration with a typed error and exit code 2', async () => {
    const result = await runDev(['--duration', 'soon', '--db', join(dir, 'bad.db')]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--duration: expected a positive number of seconds/);
  });
});
