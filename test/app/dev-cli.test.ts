import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const dir = mkdtempSync(join(tmpdir(), 'kairos-dev-app-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const LANES = ['local', 'queue', 'flow', 'workflow'] as const;

describe('kairos dev with every lane', () => {
  it('--fast --duration 8: prints work from all four lanes, answers /api/overview, exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/cli.ts', 'dev', '--fast', '--duration', '8', '--port', '0', '--status-every', '2', '--db', join(dir, 'dev.db')], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let overview: { status: number; lanes: string[] } | null = null;
    let sentTerm = false;
    const killer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    const lanesSeen = (): boolean =>
      // Work lines, not only start-up lines: a completed job, a completed run, a dead letter.
      /\[local\] heartbeat ✓/.test(stdout) &&
      /\[queue\] \S+ \S+ ✓/.test(stdout) &&
      /\[queue\] poison \S+ → DEAD LETTER/.test(stdout) &&
      /\[flow\] nightly-etl run \S+ Completed/.test(stdout) &&
      /\[workflow\] drift_score [\d.]+ crossed 0\.3 → retrain-on-drift: Started/.test(stdout) &&
      /\[workflow\] drift-retrain run \S+ Completed/.test(stdout);
    let asking = false;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const url = /\[dev\] UI (?:not built[^·]*· )?(?:http\S+ · )?API (http:\/\/127\.0\.0\.1:\d+)\/api/.exec(stdout)?.[1];
      if (url !== undefined && overview === null && !asking) {
        asking = true;
        void fetch(`${url}/api/overview`).then(async (response) => {
          const body = (await response.json()) as { lanes: Array<{ lane: string }> };
          overview = { status: response.status, lanes: body.lanes.map((l) => l.lane) };
        });
      }
      if (!sentTerm && overview !== null && lanesSeen()) {
        sentTerm = true;
        child.kill('SIGTERM');
      }
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (exitCode) => resolve(exitCode)));
    clearTimeout(killer);
    assert.equal(code, 0, stderr);
    assert.deepEqual(overview, { status: 200, lanes: [...LANES] });
    for (const lane of LANES) assert.match(stdout, new RegExp(`\\[${lane}\\] `), `no ${lane} lines`);
    assert.ok(lanesSeen(), `not every lane did its work:\n${stdout.split('\n').filter((l) => !l.includes('[local]')).join('\n')}`);
    assert.ok(sentTerm, 'SIGTERM was sent once every lane had worked');
    assert.match(stdout, /stopping \(SIGTERM\)/);
    assert.match(stdout, /\[local\] stopped/);
    assert.match(stdout, /\[dev\] stopped/);
  });
});
