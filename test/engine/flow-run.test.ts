import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { StepOutputNotRecordableError } from '../../src/errors.js';
import { flow, task } from '../../src/engine/flow/define.js';
import { createEngine, type Engine } from '../../src/engine/runtime/engine.js';
import type { Store } from '../../src/store/store.js';
import { dialects, freshStore } from './support.js';

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

for (const { dialect, skip } of await dialects('engine flows')) {
  describe(`flows on ${dialect}`, { skip }, () => {
    let store: Store;
    let engine: Engine;
    const engines: Engine[] = [];
    const make = (options: Partial<Parameters<typeof createEngine>[0]> = {}): Engine => {
      const created = createEngine({ store, pollIntervalMs: 50, leaseMs: 2_000, ...options });
      engines.push(created);
      return created;
    };
    before(async () => {
      store = await freshStore(dialect);
      engine = make();
    });
    after(async () => {
      for (const created of engines) await created.stop({ deadlineMs: 1_000 });
      await store.close();
    });

    it('runs a DAG in parallel with a map fan-out and fan-in, and journals every task', async () => {
      let concurrent = 0;
      let peak = 0;
      const work = async <T>(value: T): Promise<T> => {
        concurrent += 1;
        peak = Math.max(peak, concurrent);
        await delay(20);
        concurrent -= 1;
        return value;
      };
      engine.register(
        flow('dag', {
          concurrency: 3,
          tasks: {
            models: task({ run: () => work(['a', 'b', 'c', 'd', 'e']) }),
            train: task({ needs: ['models'], map: 'models', run: (ctx, up) => work(`${String(up.models)}@${String(ctx.mapIndex)}`) }),
            report: task({ needs: ['train'], run: (ctx, up) => (ctx.log.info('fan-in', { n: (up.train as string[]).length }), (up.train as string[]).join(',')) }),
          },
        }),
      );
      await engine.start();
      const { runId } = await engine.run('dag');
      const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
      assert.equal(run.state, 'Completed');
      assert.deepEqual(run.result, { report: 'a@0,b@1,c@2,d@3,e@4' });
      assert.ok(peak <= 3, `peak concurrency ${peak} over the limit of 3`);
      assert.ok(peak >= 2, 'mapped items ran in parallel');
      const steps = await engine.listSteps(runId);
      assert.deepEqual(steps.map((step) => step.key).sort(), ['models', 'report', 'train', 'train[0]', 'train[1]', 'train[2]', 'train[3]', 'train[4]']);
      assert.ok(steps.every((step) => step.state === 'Completed' && step.attempt === 1));
      const logs = await engine.listEvents(runId, { type: 'log', stepKey: 'report' });
      assert.equal(logs[0]?.message, 'fan-in');
      assert.deepEqual(logs[0]?.data, { n: 5 });
    });

    it('applies trigger rules: upstream_failed propagates, skips propagate, all_done and one_failed run', async () => {
      engine.register(
        flow('rules', {
          tasks: {
            ok: task({ run: () => 1 }),
            boom: task({ run: () => Promise.reject(new Error('boom')) }),
            afterBoom: task({ needs: ['boom'], run: () => 'never' }),
            chained: task({ needs: ['afterBoom'], run: () => 'never' }),
            cleanup: task({ needs: ['ok', 'boom'], triggerRule: 'all_done', run: (_ctx, up) => ({ ok: up.ok, boom: up.boom ?? null }) }),
            alert: task({ needs: ['boom'], triggerRule: 'one_failed', run: () => 'alerted' }),
            onlyOnFailure: task({ needs: ['ok'], triggerRule: 'all_failed', run: () => 'never' }),
            afterSkip: task({ needs: ['onlyOnFailure'], run: () => 'never' }),
          },
        }),
      );
      const { runId } = await engine.run('rules');
      const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
      const states = Object.fromEntries((await engine.listSteps(runId)).map((step) => [step.key, step.state]));
      assert.deepEqual(states, {
        ok: 'Completed',
        boom: 'Failed',
        afterBoom: 'Skipped',
        chained: 'Skipped',
        cleanup: 'Completed',
        alert: 'Completed',
        onlyOnFailure: 'Skipped',
        afterSkip: 'Skipped',
      });
      const steps = await engine.listSteps(runId);
      assert.equal(steps.find((step) => step.key === 'chained')?.error?.name, 'UpstreamFailed');
      assert.equal(steps.find((step) => step.key === 'afterSkip')?.error?.name, 'Skipped');
      assert.deepEqual(steps.find((step) => step.key === 'cleanup')?.output, { ok: 1, boom: null });
      // Airflow: the run fails because a leaf (chained) is upstream-failed.
      assert.equal(run.state, 'Failed');
      assert.match(run.error?.message ?? '', /task 'boom' failed: boom/);
    });

    it('retries with backoff and retryIf, times out, and calls hooks', async () => {
      const calls: string[] = [];
      let flaky = 0;
      engine.register(
        flow('retries', {
          tasks: {
            flaky: task({
              retries: { count: 3, delayMs: 5, backoff: 'exponential' },
              run: (ctx) => {
                flaky += 1;
                if (ctx.attempt < 3) throw new Error(`attempt ${ctx.attempt}`);
                return ctx.attempt;
              },
              onRetry: (ctx, _error, delayMs) => void calls.push(`retry ${ctx.attempt} ${delayMs}`),
              onSuccess: (_ctx, output) => void calls.push(`success ${String(output)}`),
            }),
            fatal: task({
              retries: { count: 5, retryIf: (error) => !(error instanceof TypeError) },
              run: () => {
                throw new TypeError('bad input');
              },
              onFailure: () => void calls.push('failure'),
            }),
            slow: task({ timeoutMs: 50, run: (ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve('stopped'))) }),
          },
        }),
      );
      const { runId } = await engine.run('retries');
      await engine.waitForRun(runId, { timeoutMs: 10_000 });
      const steps = Object.fromEntries((await engine.listSteps(runId)).map((step) => [step.key, step]));
      assert.equal(steps.flaky?.state, 'Completed');
      assert.equal(steps.flaky?.attempt, 3);
      assert.equal(flaky, 3);
      assert.deepEqual(calls.filter((c) => c.startsWith('retry')), ['retry 1 5', 'retry 2 10']);
      assert.ok(calls.includes('success 3'));
      assert.equal(steps.fatal?.state, 'Failed');
      assert.equal(steps.fatal?.attempt, 1);
      assert.ok(calls.includes('failure'));
      assert.equal(steps.slow?.state, 'TimedOut');
      assert.equal(steps.slow?.error?.code, 'KAIROS_TIMEOUT');
    });

    it('reuses a cached result across runs while the key matches and it has not expired', async () => {
      let executions = 0;
      engine.register(
        flow('cached', {
          tasks: {
            features: task({
              cache: { key: ({ params }) => String(params.day), expiresInMs: 60_000 },
              run: (ctx) => {
                executions += 1;
                return { day: ctx.params.day, n: executions };
              },
            }),
          },
        }),
      );
      const first = await engine.waitForRun((await engine.run('cached', { day: '2024-01-01' })).runId);
      const second = await engine.waitForRun((await engine.run('cached', { day: '2024-01-01' })).runId);
      const third = await engine.waitForRun((await engine.run('cached', { day: '2024-01-02' })).runId);
      assert.equal(executions, 2);
      assert.deepEqual(first.result, second.result);
      assert.notDeepEqual(first.result, third.result);
      const [cachedStep] = await engine.listSteps(second.id);
      assert.equal(cachedStep?.cached, true);
    });

    it('limits concurrency per tag', async () => {
      let concurrent = 0;
      let peak = 0;
      const gpuTask = task({
        tags: ['gpu'],
        run: async () => {
          concurrent += 1;
          peak = Math.max(peak, concurrent);
          await delay(15);
          concurrent -= 1;
        },
      });
      engine.register(flow('tagged', { tagConcurrency: { gpu: 1 }, tasks: { a: gpuTask, b: gpuTask, c: gpuTask } }));
      const run = await engine.waitForRun((await engine.run('tagged')).runId, { timeoutMs: 10_000 });
      assert.equal(run.state, 'Completed');
      assert.equal(peak, 1);
    });

    it('fails a task whose output cannot be recorded, keeping the journal intact', async () => {
      engine.register(
        flow('unrecordable', {
          tasks: {
            fine: task({ run: () => ({ ok: true }) }),
            fn: task({ needs: ['fine'], run: () => ({ handler: () => 1 }) }),
            big: task({ needs: ['fine'], run: () => 10n }),
          },
        }),
      );
      const run = await engine.waitForRun((await engine.run('unrecordable')).runId, { timeoutMs: 10_000 });
      assert.equal(run.state, 'Failed');
      const steps = Object.fromEntries((await engine.listSteps(run.id)).map((step) => [step.key, step]));
      assert.deepEqual(steps.fine?.output, { ok: true });
      assert.equal(steps.fn?.error?.code, new StepOutputNotRecordableError('x').code);
      assert.match(steps.fn?.error?.message ?? '', /a function at key 'handler'/);
      assert.match(steps.big?.error?.message ?? '', /BigInt/);
    });

    it('makes one run per idempotency key', async () => {
      const first = await engine.run('cached', { day: 'x' }, { idempotencyKey: 'dep-1:1700000000000', deploymentId: 'dep-1' });
      const second = await engine.start({ kind: 'flow', name: 'cached' }, { day: 'x' }, { idempotencyKey: 'dep-1:1700000000000', deploymentId: 'dep-1', scheduledMs: 0 });
      assert.equal(first.created, true);
      assert.equal(second.created, false);
      assert.equal(second.runId, first.runId);
      await engine.waitForRun(first.runId);
    });

    it('retry() reruns only what did not complete', async () => {
      let failNext = true;
      const executed: string[] = [];
      engine.register(
        flow('retryable', {
          tasks: {
            extract: task({ run: () => (executed.push('extract'), 'rows') }),
            train: task({
              needs: ['extract'],
              run: () => {
                executed.push('train');
                if (failNext) throw new Error('OOM');
                return 'model';
              },
            }),
            publish: task({ needs: ['train'], run: (_ctx, up) => (executed.push('publish'), `published ${String(up.train)}`) }),
          },
        }),
      );
      const { runId } = await engine.run('retryable');
      assert.equal((await engine.waitForRun(runId)).state, 'Failed');
      failNext = false;
      await engine.retry(runId);
      const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
      assert.equal(run.state, 'Completed');
      assert.equal(run.attempt, 2);
      assert.deepEqual(executed, ['extract', 'train', 'train', 'publish']);
      await assert.rejects(engine.retry(runId), /only Failed, TimedOut, Cancelled or Crashed/);
    });

    it('hands a run to a worker serving the queue a task needs, and back', async () => {
      const ran: string[] = [];
      const gpuFlow = flow('gpu-flow', {
        tasks: {
          prepare: task({ run: () => (ran.push('prepare:default'), 1) }),
          train: task({ needs: ['prepare'], queue: 'gpu', run: (_ctx, up) => (ran.push('train:gpu'), Number(up.prepare) + 1) }),
          publish: task({ needs: ['train'], run: (_ctx, up) => (ran.push('publish:default'), Number(up.train) + 1) }),
        },
      });
      engine.register(gpuFlow);
      const { runId } = await engine.run('gpu-flow');
      // No gpu worker yet: the run waits Pending on queue 'gpu' with its train step Pending.
      for (let i = 0; i < 100 && (await engine.getRun(runId)).queue !== 'gpu'; i += 1) await delay(20);
      const waiting = await engine.getRun(runId);
      assert.equal(waiting.state, 'Pending');
      assert.equal(waiting.queue, 'gpu');
      assert.equal((await engine.listSteps(runId)).find((step) => step.key === 'train')?.state, 'Pending');
      const gpuWorker = make({ queues: ['gpu'], workerId: 'gpu-worker', definitions: [gpuFlow] });
      await gpuWorker.start();
      const run = await engine.waitForRun(runId, { timeoutMs: 10_000 });
      assert.equal(run.state, 'Completed');
      assert.deepEqual(run.result, { publish: 3 });
      assert.deepEqual(ran, ['prepare:default', 'train:gpu', 'publish:default']);
    });

    it('cancel fires the task signal and the run ends Cancelled', async () => {
      let sawAbort = false;
      engine.register(
        flow('long', {
          tasks: {
            wait: task({
              run: (ctx) =>
                new Promise((resolve) =>
                  ctx.signal.addEventListener('abort', () => {
                    sawAbort = true;
                    resolve(null);
                  }),
                ),
            }),
            next: task({ needs: ['wait'], run: () => 'never' }),
          },
        }),
      );
      const { runId } = await engine.run('long');
      for (let i = 0; i < 100 && (await engine.listSteps(runId)).find((step) => step.key === 'wait')?.state !== 'Running'; i += 1) await delay(20);
      await engine.cancel(runId);
      const run = await engine.waitForRun(runId);
      assert.equal(run.state, 'Cancelled');
      for (let i = 0; i < 50 && !sawAbort; i += 1) await delay(20);
      assert.ok(sawAbort);
      assert.equal((await engine.listSteps(runId)).find((step) => step.key === 'next'), undefined);
    });
  });
}
