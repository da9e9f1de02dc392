import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createEngine, type Engine } from '../../src/engine/runtime/engine.js';
import { workflow } from '../../src/engine/workflow/define.js';
import type { Store } from '../../src/store/store.js';
import { freshStore } from './support.js';

describe('workflow steps without retries or timeout are recorded in one write', () => {
  let store: Store;
  let engine: Engine;
  const calls = { beginStep: 0, recordStep: 0, finishStep: 0 };
  before(async () => {
    store = await freshStore('sqlite');
    engine = createEngine({ store, pollIntervalMs: 20 });
    const repo = engine.repo as unknown as Record<keyof typeof calls, (...args: unknown[]) => Promise<unknown>>;
    for (const name of Object.keys(calls) as Array<keyof typeof calls>) {
      const original = repo[name].bind(repo);
      repo[name] = (...args: unknown[]) => {
        calls[name] += 1;
        return original(...args);
      };
    }
    await engine.start();
  });
  after(async () => {
    await engine.stop({ deadlineMs: 1_000 });
    await store.close();
  });

  it('fast steps and now(): no begin row, one insert each, same journal', async () => {
    engine.register(
      workflow('three-fast', async (ctx) => {
        const a = await ctx.step('a', () => 1);
        const b = await ctx.step('b', () => a + 1);
        const at = await ctx.now();
        return { sum: a + b + (await ctx.step('c', () => 3)), at: typeof at };
      }),
    );
    const run = await engine.waitForRun((await engine.run('three-fast')).runId, { timeoutMs: 10_000 });
    assert.deepEqual(run.result, { sum: 6, at: 'number' });
    assert.deepEqual(calls, { beginStep: 0, recordStep: 4, finishStep: 0 });
    const steps = await engine.listSteps(run.id);
    assert.deepEqual(steps.map((step) => [step.key, step.state, step.attempt]), [['a#1', 'Completed', 1], ['b#1', 'Completed', 1], ['$now#1', 'Completed', 1], ['c#1', 'Completed', 1]]);
    assert.ok(steps.every((step) => step.startedMs !== null && step.endedMs !== null && step.endedMs >= step.startedMs));
  });

  it('a slow step still shows Running in the store while it runs', async () => {
    let release: () => void = () => undefined;
    engine.register(workflow('one-slow', async (ctx) => ctx.step('slow', () => new Promise<string>((resolve) => (release = () => resolve('done'))))));
    const { runId } = await engine.run('one-slow');
    for (let i = 0; i < 250 && !(await engine.listSteps(runId)).some((step) => step.state === 'Running'); i += 1) await new Promise((r) => setTimeout(r, 20));
    assert.equal((await engine.listSteps(runId))[0]?.state, 'Running');
    release();
    const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
    assert.equal(run.result, 'done');
    assert.equal((await engine.listSteps(runId))[0]?.state, 'Completed');
  });
});
