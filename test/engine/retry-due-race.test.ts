import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/logger.js';
import { flow, task } from '../../src/engine/flow/define.js';
import { executeFlow } from '../../src/engine/flow/executor.js';
import type { RunExecution } from '../../src/engine/runtime/execution.js';
import { runStep } from '../../src/engine/runtime/step-runner.js';
import { createPostgresEngineRepository } from '../../src/engine/store/postgres.js';
import type { EngineRepository } from '../../src/engine/store/repository.js';
import { createSqliteEngineRepository } from '../../src/engine/store/sqlite.js';
import { StepKind } from '../../src/engine/types.js';
import type { Store } from '../../src/store/store.js';
import { dialects, freshStore } from './support.js';
import { FakeClock } from './support/fake-clock.js';

const T0 = 1_700_000_000_000;

/**
 * Wraps a repository to count calls in flight, so a test can wait until an executor is idle (only
 * timers left) without sleeping: quiet = no store call in flight over several turns of the loop.
 */
function tracked(repo: EngineRepository): { repo: EngineRepository; quiet: () => Promise<void> } {
  let inFlight = 0;
  const wrapped = new Proxy(repo, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        inFlight += 1;
        return Promise.resolve((value as (...a: unknown[]) => unknown).apply(target, args)).finally(() => (inFlight -= 1));
      };
    },
  });
  const quiet = async (): Promise<void> => {
    for (let idleTurns = 0; idleTurns < 5; ) {
      await new Promise((resolve) => setImmediate(resolve));
      idleTurns = inFlight === 0 ? idleTurns + 1 : 0;
    }
  };
  return { repo: wrapped, quiet };
}

/** A fake clock whose longer timers fire `earlyMs` before their time, as Node's can under load. */
class EarlyClock extends FakeClock implements Clock {
  constructor(
    startMs: number,
    private readonly earlyMs: number,
  ) {
    super(startMs);
  }

  override setTimer(callback: () => void, delayMs: number): TimerHandle {
    return super.setTimer(callback, delayMs > this.earlyMs ? delayMs - this.earlyMs : delayMs);
  }
}

async function newExecution(repo: EngineRepository, clock: Clock, name: string): Promise<RunExecution> {
  const id = randomUUID();
  await repo.insertRun({ id, kind: 'flow', name, paramsJson: null, parentRunId: null, deploymentId: null, idempotencyKey: null, tags: [], scheduledMs: clock.now(), nowMs: clock.now() });
  // Journal writes are fenced by the claim's lease: claim the run as a worker would.
  const [claimed] = await repo.claimRuns({ workerId: 'test-worker', names: [name], queues: ['default'], limit: 1, leaseMs: 3_600_000, nowMs: clock.now() });
  assert.ok(claimed !== undefined && claimed.run.id === id);
  const { run, lease } = claimed;
  const noop = (): undefined => undefined;
  return {
    run,
    repo,
    lease,
    clock,
    logger: silentLogger,
    workerId: 'test-worker',
    queues: new Set(['default']),
    signal: new AbortController().signal,
    maxRecordBytes: 1_000_000,
    emitStep: noop,
    stepLogger: () => ({ debug: noop, info: noop, warn: noop, error: noop }),
    flushLogs: () => Promise.resolve(),
    acquireTagSlot: () => Promise.reject(new Error('no tags in this test')),
    startChild: () => Promise.reject(new Error('no children in this test')),
  };
}

for (const { dialect, skip } of await dialects('retry due race')) {
  describe(`a durable retry is started only when the store says it is due (${dialect})`, { skip }, () => {
    let store: Store;
    let repo: EngineRepository;
    before(async () => {
      store = await freshStore(dialect);
      repo = store.dialect === 'sqlite' ? createSqliteEngineRepository(store) : createPostgresEngineRepository(store);
    });
    after(async () => {
      await store.close();
    });

    it('a retry the store refused as not due is deferred, even if the clock passed its wake time during the round trip', async () => {
      const clock = new FakeClock(T0);
      // The store answers after `latencyMs` of the clock (a slow round trip under load).
      let latencyMs = 0;
      let begins = 0;
      const slowRepo: EngineRepository = {
        ...repo,
        beginStep: async (step) => {
          begins += 1;
          const row = await repo.beginStep(step);
          clock.advance(latencyMs);
          return row;
        },
      };
      const execution = await newExecution(slowRepo, clock, 'race');
      const attempts: number[] = [];
      const spec = {
        key: 'flaky',
        kind: StepKind.Task,
        inputJson: null,
        retries: { count: 3, delayMs: 100 },
        label: "task 'flaky'",
        run: (attempt: number) => {
          attempts.push(attempt);
          if (attempt === 1) throw new Error('first attempt fails');
          return attempt;
        },
      };

      const first = await runStep(execution, spec);
      assert.deepEqual(first, { ok: 'deferred', wakeMs: T0 + 100 });

      // Woken 1 ms early; the store compares with T0 + 99 and refuses, its answer arrives at T0 + 104.
      clock.set(T0 + 99);
      latencyMs = 5;
      const early = await runStep(execution, spec);
      assert.deepEqual(early, { ok: 'deferred', wakeMs: T0 + 100 }, 'the refused retry comes back at its wake time');
      assert.deepEqual(attempts, [1], 'no attempt ran that the journal did not begin');
      const waiting = await repo.getStep(execution.run.id, 'flaky');
      assert.equal(waiting?.state, 'Retrying');
      assert.equal(waiting.attempt, 1);

      latencyMs = 0;
      const due = await runStep(execution, spec);
      assert.deepEqual(due, { ok: true, output: 2, replayed: false });
      assert.deepEqual(attempts, [1, 2]);
      const done = await repo.getStep(execution.run.id, 'flaky');
      assert.equal(done?.state, 'Completed');
      assert.equal(done.attempt, 2);
      assert.equal(begins, 3);
    });

    it('a flow retry timer that fires early waits out the rest instead of asking the store too soon', async () => {
      const clock = new EarlyClock(T0, 3);
      let flakyBegins = 0;
      const { repo: trackedRepo, quiet } = tracked(repo);
      const countingRepo: EngineRepository = {
        ...trackedRepo,
        beginStep: (step) => {
          if (step.key === 'flaky') flakyBegins += 1;
          return trackedRepo.beginStep(step);
        },
      };
      const attempts: number[] = [];
      let release: () => void = () => undefined;
      const held = new Promise<string>((resolve) => (release = () => resolve('held')));
      const definition = flow('early-timer', {
        tasks: {
          flaky: task({
            retries: { count: 2, delayMs: 100 },
            run: (ctx) => {
              attempts.push(ctx.attempt);
              if (ctx.attempt === 1) throw new Error('first attempt fails');
              release();
              return ctx.attempt;
            },
          }),
          // Keeps the run busy, so the retry runs in this executor instead of parking the run.
          hold: task({ run: () => held }),
        },
      });
      const execution = await newExecution(countingRepo, clock, 'early-timer');
      const outcome = executeFlow(execution, definition);
      await quiet();
      assert.deepEqual(attempts, [1]);
      assert.equal((await repo.getStep(execution.run.id, 'flaky'))?.state, 'Retrying');

      clock.set(T0 + 97); // the retry timer fires 3 ms early
      await quiet();
      assert.deepEqual(attempts, [1], 'not retried before its wake time');
      assert.equal(flakyBegins, 1, 'no store round trip for a retry that is not due');

      clock.set(T0 + 100);
      const result = await outcome;
      assert.equal(result.type, 'finished');
      assert.deepEqual(attempts, [1, 2]);
      assert.equal(flakyBegins, 2);
      const flaky = await repo.getStep(execution.run.id, 'flaky');
      assert.equal(flaky?.state, 'Completed');
      assert.equal(flaky.attempt, 2);
    });
  });
}
