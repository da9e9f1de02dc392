import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';

const CLI = new URL('../support/cli.ts', import.meta.url).pathname;

function kairos(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('kairos run / runs', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kairos-cli-engine-'));
  const store = join(dir, 'kairos.db');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs the example flow with --wait --json, then lists, shows, and refuses to retry a completed run', () => {
    const ran = kairos('run', 'retrain-models', '--param', 'days=7', '--param', 'models=["demand","damage"]', '--wait', '--json', '--store', store);
    assert.equal(ran.status, 0, ran.stderr);
    const run = JSON.parse(ran.stdout) as { id: string; state: string; params: { days: number; models: string[] }; result: { publish: { published: string[] } } };
    assert.equal(run.state, 'Completed');
    assert.deepEqual(run.params.models, ['demand', 'damage']);
    assert.ok(Array.isArray(run.result.publish.published));

    const listed = JSON.parse(kairos('runs', 'ls', '--json', '--store', store).stdout) as Array<{ id: string }>;
    assert.deepEqual(listed.map((r) => r.id), [run.id]);

    const shown = JSON.parse(kairos('runs', 'show', run.id, '--json', '--store', store).stdout) as { steps: Array<{ key: string; state: string }> };
    assert.ok(shown.steps.some((step) => step.key === 'train[1]' && step.state === 'Completed'));

    const retried = kairos('runs', 'retry', run.id, '--store', store);
    assert.equal(retried.status, 2);
    assert.match(retried.stderr, /only Failed, TimedOut, Cancelled or Crashed runs can be retried\. \[KAIROS_INVALID_RUN_STATE\]/);
  });

  it('rejects bad parameters with the zod issue, creates a run without --wait, and cancels it', () => {
    const bad = kairos('run', 'retrain-models', '--param', 'days=-3', '--store', store);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /days: .*\[KAIROS_INVALID_PARAMETERS\]/);

    const created = JSON.parse(kairos('run', 'drift-retrain', '--param', 'model=demand', '--json', '--store', store).stdout) as { runId: string; created: boolean };
    assert.equal(created.created, true);
    const cancelled = kairos('runs', 'cancel', created.runId, '--store', store);
    assert.equal(cancelled.status, 0, cancelled.stderr);
    assert.match(cancelled.stdout, /Cancelled/);
  });
});
