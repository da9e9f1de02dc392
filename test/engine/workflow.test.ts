import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { TimeoutError } from '../../src/errors.js';
import { workflow } from '../../src/engine/workflow/define.js';
import { createEngine, type Engine } from '../../src/engine/runtime/engine.js';
import type { Store } from '../../src/store/store.js';
import { dialects, freshStore } from './support.js';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 250; i += 1) {
    if (await check()) return;
    await delay(20);
  }
  throw new Error(`gave up waiting for ${what}`);
}

for (const { dialect, skip } of await dialects('engine workflows')) {
  describe(`workflows on ${dialect}`, { skip }, () => {
    let store: Store;
    let engine: Engine;
    before(async () => {
      store = await freshStore(dialect);
      engine = createEngine({ store, pollIntervalMs: 50, leaseMs: 2_000 });
      await engine.start();
    });
    after(async () => {
      await engine.stop({ deadlineMs: 1_000 });
      await store.close();
    });

    it('journals steps by name and occurrence, so loops replay correctly', async () => {
      let executions = 0;
      engine.register(
        workflow('loop', async (ctx, input: { n: number }) => {
          let total = 0;
          for (let i = 0; i < input.n; i += 1) total += await ctx.step('add', () => (executions += 1, i));
          await ctx.sleep(1);
          return total;
        }),
      );
      const run = await engine.waitForRun((await engine.run('loop', { n: 4 })).runId, { timeoutMs: 10_000 });
      assert.equal(run.result, 6);
      // The run replayed after its sleep: the four steps did not run again.
      assert.equal(executions, 4);
      assert.deepEqual((await engine.listSteps(run.id)).map((step) => step.key), ['add#1', 'add#2', 'add#3', 'add#4', '$sleep#1']);
    });

    it('a durable sleep parks the run Waiting, frees the worker, and resumes after', async () => {
      engine.register(
        workflow('sleeper', async (ctx) => {
          const before = await ctx.now();
          await ctx.sleep('300ms');
          const afterSleep = await ctx.now();
          return afterSleep - before;
        }),
      );
      const { runId } = await engine.run('sleeper');
      await until(async () => (await engine.getRun(runId)).state === 'Waiting', 'the run to wait');
      const waiting = await engine.getRun(runId);
      assert.equal(waiting.leaseOwner, null);
      assert.ok(waiting.wakeMs !== null);
      const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
      assert.equal(run.state, 'Completed');
      assert.ok((run.result as number) >= 300);
    });

    it('buffers events from the first waitForEvent on, matches by subset or predicate, and times out', async () => {
      engine.register(
        workflow('drift', async (ctx) => {
          await ctx.step('ready', () => true);
          const first = await ctx.waitForEvent<{ model: string; score: number }>('drift', { match: { model: 'demand' } });
          // Delivered while the run was busy here: buffered, taken by the next wait.
          await ctx.step('busy', () => delay(100));
          const second = await ctx.waitForEvent<{ model: string; score: number }>('drift', { match: (p) => p.score > 0.5 });
          let timedOut = false;
          try {
            await ctx.waitForEvent('never', { timeoutMs: 50 });
          } catch (error) {
            timedOut = error instanceof TimeoutError;
          }
          return { first: first.score, second: second.score, timedOut };
        }),
      );
      // Delivered before any run subscribed: nobody gets it.
      assert.equal(await engine.deliverEvent('drift', { model: 'demand', score: 0.1 }), 0);
      const { runId } = await engine.run('drift');
      await until(async () => (await engine.listSteps(runId)).some((step) => step.key === '$event:drift#1'), 'the subscription');
      assert.equal(await engine.deliverEvent('drift', { model: 'other', score: 0.9 }), 0, 'subset match rejects another model');
      assert.equal(await engine.deliverEvent('drift', { model: 'demand', score: 0.7 }), 1);
      assert.equal(await engine.deliverEvent('drift', { model: 'demand', score: 0.8 }), 1);
      const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
      assert.equal(run.state, 'Completed');
      // first: the subset match skipped 'other'; second: the buffered 'other' 0.9 (predicate score > 0.5).
      assert.deepEqual(run.result, { first: 0.7, second: 0.9, timedOut: true });
      const steps = await engine.listSteps(runId);
      assert.equal(steps.find((step) => step.key === '$event:never#1')?.state, 'TimedOut');
    });

    it('signals are buffered from the start of the run', async () => {
      engine.register(
        workflow('approval', async (ctx) => {
          await ctx.sleep(100);
          return ctx.waitForSignal<{ approved: boolean }>('approve');
        }),
      );
      const { runId } = await engine.run('approval');
      await engine.signal(runId, 'approve', { approved: true });
      const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
      assert.deepEqual(run.result, { approved: true });
      await assert.rejects(engine.signal(runId, 'approve', {}), /signals go to runs that have not finished/);
    });

    it('records now() and random() so a retried run sees the same values', async () => {
      let failOnce = true;
      engine.register(
        workflow('recorded', async (ctx) => {
          const at = await ctx.now();
          const r = await ctx.random();
          await ctx.step('maybe-fail', () => {
            if (failOnce) {
              failOnce = false;
              throw new Error('transient');
            }
          });
          return { at, r };
        }),
      );
      const { runId } = await engine.run('recorded');
      assert.equal((await engine.waitForRun(runId, { timeoutMs: 10_000 })).state, 'Failed');
      const firstSteps = await engine.listSteps(runId);
      await delay(5);
      await engine.retry(runId);
      const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
      assert.equal(run.state, 'Completed');
      assert.deepEqual(run.result, { at: firstSteps[0]?.output, r: firstSteps[1]?.output });
    });

    it('starts a child, waits for its result, and cancelling the parent cancels the child', async () => {
      engine.register(
        workflow('child', async (ctx, input: { x: number }) => {
          await ctx.sleep(input.x > 100 ? 60_000 : 1);
          return input.x * 2;
        }),
        workflow('parent', async (ctx, input: { x: number }) => {
          const child = await ctx.startChild<number>('child', input);
          return { child: child.runId, result: await child.result() };
        }),
      );
      const done = await engine.waitForRun((await engine.run('parent', { x: 21 })).runId, { timeoutMs: 10_000 });
      assert.equal((done.result as { result: number }).result, 42);
      const child = await engine.getRun((done.result as { child: string }).child);
      assert.equal(child.parentRunId, done.id);

      const { runId } = await engine.run('parent', { x: 1_000 });
      await until(async () => (await engine.listRuns({ parentRunId: runId })).length === 1, 'the child');
      const [longChild] = await engine.listRuns({ parentRunId: runId });
      await engine.cancel(runId);
      assert.equal((await engine.getRun(runId)).state, 'Cancelled');
      assert.equal((await engine.getRun(longChild!.id)).state, 'Cancelled');
    });

    it('cancel fires ctx.signal in a running step', async () => {
      let aborted = false;
      engine.register(
        workflow('cancellable', async (ctx) => {
          await ctx.step('long', (step) => new Promise((resolve) => step.signal.addEventListener('abort', () => resolve((aborted = true)))));
          return 'never';
        }),
      );
      const { runId } = await engine.run('cancellable');
      await until(async () => (await engine.listSteps(runId)).some((step) => step.state === 'Running'), 'the step to start');
      await engine.cancel(runId);
      await until(() => Promise.resolve(aborted), 'the abort');
      assert.equal((await engine.waitForRun(runId)).state, 'Cancelled');
      assert.equal((await engine.listSteps(runId))[0]?.state, 'Cancelled');
    });

    it('fails a step whose output cannot be recorded (cycle, too large)', async () => {
      const small = createEngine({ store, pollIntervalMs: 50, maxRecordBytes: 100 });
      small.register(
        workflow('unrecordable-wf', async (ctx) => {
          const results: string[] = [];
          for (const make of [() => { const a: Record<string, unknown> = {}; a.self = a; return a; }, () => 'x'.repeat(200)]) {
            try {
              await ctx.step<unknown>('bad', make);
            } catch (error) {
              results.push((error as Error).name);
            }
          }
          return results;
        }),
      );
      await small.start();
      try {
        const run = await small.waitForRun((await small.run('unrecordable-wf')).runId, { timeoutMs: 10_000 });
        assert.deepEqual(run.result, ['StepOutputNotRecordableError', 'StepOutputNotRecordableError']);
        assert.deepEqual((await small.listSteps(run.id)).map((step) => step.state), ['Failed', 'Failed']);
      } finally {
        await small.stop();
      }
    });
  });
}
