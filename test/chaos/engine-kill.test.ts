import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { createEngine } from '../../src/engine/runtime/engine.js';
import { openPostgresStore } from '../../src/store/postgres/open.js';
import { openSqliteStore } from '../../src/store/sqlite/open.js';
import type { Store } from '../../src/store/store.js';
import { SERVICES, serviceSkip } from '../support/services.js';
import { dropSchema } from '../engine/support.js';
import { CHAOS_TASKS, chaosFlow } from '../engine/fixtures/chaos-flow.js';

const WORKER = new URL('../engine/fixtures/kill-worker.ts', import.meta.url).pathname;
const LEASE_MS = 1_000;
const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function startWorker(target: string, schema: string, workerId: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, target, schema, workerId, String(LEASE_MS)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout?.once('data', () => resolve(child));
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

function counts(file: string): Map<string, number> {
  const result = new Map<string, number>();
  if (!existsSync(file)) return result;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) result.set(line, (result.get(line) ?? 0) + 1);
  return result;
}

const targets = [
  { dialect: 'sqlite', skip: false as const },
  { dialect: 'postgres', skip: await serviceSkip('postgres', 'engine kill -9 recovery') },
];

for (const { dialect, skip } of targets) {
  describe(`engine crash recovery (kill -9) on ${dialect}`, { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'kairos-engine-kill-'));
    const schema = `kairos_kill_${randomBytes(4).toString('hex')}`;
    const target = dialect === 'sqlite' ? join(dir, 'kairos.db') : SERVICES.postgres.url;
    const children: ChildProcess[] = [];
    let store: Store | undefined;
    after(async () => {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await store?.close();
      if (dialect === 'postgres') await dropSchema(schema);
      rmSync(dir, { recursive: true, force: true });
    });

    it('a second worker resumes the run after the lease expires; completed tasks do not run again', async () => {
      store = dialect === 'sqlite' ? openSqliteStore({ path: target }) : await openPostgresStore({ connectionString: target, schema });
      const observer = createEngine({ store, definitions: [chaosFlow] });
      const countFile = join(dir, 'executions.log');
      const { runId } = await observer.run('chaos-chain', { countFile, workMs: 60 });

      const first = await startWorker(target, schema, 'worker-a');
      children.push(first);
      while ((await observer.listSteps(runId)).filter((step) => step.state === 'Completed').length < 8) await delay(20);
      first.kill('SIGKILL');
      await exited(first);
      const completedAtKill = new Set((await observer.listSteps(runId)).filter((step) => step.state === 'Completed').map((step) => step.key));
      const killedRun = await observer.getRun(runId);
      assert.equal(killedRun.state, 'Running');
      assert.equal(killedRun.leaseOwner, 'worker-a');

      const second = await startWorker(target, schema, 'worker-b');
      children.push(second);
      const run = await observer.waitForRun(runId, { timeoutMs: 60_000, pollMs: 100 });
      assert.equal(await exited(second), 0);

      assert.equal(run.state, 'Completed');
      assert.deepEqual(run.result, { t19: 19 });
      const executions = counts(countFile);
      assert.equal(executions.size, CHAOS_TASKS, 'every task ran');
      for (const key of completedAtKill) assert.equal(executions.get(key), 1, `${key} completed before the kill and must not run again`);
      const twice = [...executions].filter(([, n]) => n > 1);
      assert.ok(twice.length <= 1, `at most the task in flight runs twice, got ${JSON.stringify(twice)}`);
      assert.ok(twice.every(([, n]) => n === 2));
      const timeline = await observer.listEvents(runId, { type: 'state' });
      assert.ok(timeline.some((event) => event.state === 'Crashed' && /worker-a/.test(event.message ?? '')), 'the takeover is on the timeline as Crashed');
      const steps = await observer.listSteps(runId);
      assert.equal(steps.length, CHAOS_TASKS);
      assert.ok(steps.every((step) => step.state === 'Completed'));
    });
  });
}
