import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { RunState } from '../../src/core/states.js';
import { RunWorker, type WorkerHost } from '../../src/engine/runtime/worker.js';
import { createSqliteEngineRepository } from '../../src/engine/store/sqlite.js';
import type { EngineRepository } from '../../src/engine/store/repository.js';
import type { RunRecord } from '../../src/engine/types.js';
import { workflow, type WorkflowDefinition } from '../../src/engine/workflow/define.js';
import type { Store } from '../../src/store/store.js';
import { freshStore } from './support.js';
import { FakeClock } from './support/fake-clock.js';

const T0 = 1_700_000_000_000;
// Long enough that no heartbeat (every leaseMs/3 of real time) fires during a test: takeovers are made by hand.
const LEASE_MS = 60_000;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await turn();
}

function hostOf(repo: EngineRepository, clock: FakeClock, definition: WorkflowDefinition, hooks: Partial<Pick<WorkerHost, 'recordTransition'>> = {}): WorkerHost {
  return {
    repo,
    clock,
    logger: silentLogger,
    workerId: 'worker-a',
    queues: new Set(['default']),
    leaseMs: LEASE_MS,
    concurrency: 2,
    pollIntervalMs: 60_000,
    maxRecordBytes: 1_000_000,
    definition: (name) => (name === definition.name ? definition : undefined),
    definitionNames: () => [definition.name],
    recordTransition: hooks.recordTransition ?? (() => Promise.resolve()),
    emitTransition: () => undefined,
    emitStep: () => undefined,
    writeLog: () => Promise.resolve(),
    startChild: () => Promise.reject(new Error('no children in this test')),
    afterFinish: () => Promise.resolve(),
  };
}

/** The worker's map of runs it is executing (private: what cancelLocal, stop() and the concurrency count read). */
const activeOf = (worker: RunWorker): Map<string, unknown> => (worker as unknown as { active: Map<string, unknown> }).active;

describe('engine worker: lost leases and re-claims (sqlite)', () => {
  let store: Store;
  let repo: EngineRepository;
  before(async () => {
    store = await freshStore('sqlite');
    if (store.dialect !== 'sqlite') throw new Error('sqlite store expected');
    repo = createSqliteEngineRepository(store);
  });
  after(async () => {
    await store.close();
  });

  const insert = async (clock: FakeClock, name: string): Promise<string> => {
    const id = randomUUID();
    await repo.insertRun({ id, kind: 'workflow', name, paramsJson: null, parentRunId: null, deploymentId: null, idempotencyKey: null, tags: [], scheduledMs: clock.now(), nowMs: clock.now() });
    return id;
  };

  it('a worker whose step outlived its lease stops at its next write, records nothing, notes it on the timeline, and leaves the run to the new holder', async () => {
    const clock = new FakeClock(T0);
    const name = `stalls-${randomUUID().slice(0, 8)}`;
    const ran: string[] = [];
    let resume: () => void = () => undefined;
    const stalled = new Promise<void>((resolve) => (resume = resolve));
    const definition = workflow(name, async (ctx) => {
      await ctx.step('slow', async () => (ran.push('slow'), await stalled, 'a-slow'));
      await ctx.step('next', () => (ran.push('next'), 'a-next'));
      return 'a-done';
    });
    const runId = await insert(clock, name);
    const worker = new RunWorker(hostOf(repo, clock, definition));
    await worker.start();
    worker.nudge();
    await until(() => ran.includes('slow'));

    clock.advance(LEASE_MS + 1);
    const [b] = await repo.claimRuns({ workerId: 'worker-b', names: [name], queues: ['default'], limit: 1, leaseMs: LEASE_MS, nowMs: clock.now() });
    assert.equal(b?.run.id, runId, 'worker B took the run over');

    resume();
    await until(() => activeOf(worker).size === 0);
    await worker.stop(1_000);

    assert.deepEqual(ran, ['slow'], 'A went no further than the write that was refused');
    // A began 'slow' while it held the run; its outcome, and anything after, was refused.
    assert.deepEqual(
      (await repo.listSteps(runId)).map((row) => [row.key, row.state, row.output]),
      [['slow#1', RunState.Running, undefined]],
      'nothing A did after the takeover is in the journal',
    );
    const run = await repo.getRun(runId);
    assert.equal(run?.state, RunState.Running);
    assert.equal(run.leaseOwner, 'worker-b', 'A neither finished, failed nor released the run');
    const notes = (await repo.listEvents(runId, { type: 'log' })).map((event) => event.message ?? '');
    assert.equal(notes.length, 1);
    assert.match(notes[0] ?? '', /worker worker-a lost its lease/);

    // B completes the run from the journal: each step once, B's outputs.
    assert.ok(b !== undefined);
    for (const key of ['slow#1', 'next#1']) {
      await repo.recordStep({ lease: b.lease, key, kind: 'step', state: RunState.Completed, outputJson: JSON.stringify(`b-${key}`), error: null, startedMs: clock.now(), nowMs: clock.now() });
    }
    assert.equal(await repo.finishRun(b.lease, { state: RunState.Completed, resultJson: '"b-done"', error: null, message: null, nowMs: clock.now() }), true);
    assert.deepEqual(
      (await repo.listSteps(runId)).map((row) => [row.key, row.output]),
      [
        ['slow#1', 'b-slow#1'],
        ['next#1', 'b-next#1'],
      ],
    );
    assert.equal((await repo.getRun(runId))?.state, RunState.Completed);
  });

  it("re-claiming a run it just parked, before the parked execution wound down, keeps the new execution in the worker's active set", async () => {
    const clock = new FakeClock(T0);
    const name = `parks-${randomUUID().slice(0, 8)}`;
    let executions = 0;
    let secondStarted: () => void = () => undefined;
    const second = new Promise<void>((resolve) => (secondStarted = resolve));
    const definition = workflow(name, async (ctx) => {
      executions += 1;
      if (executions === 1) return ctx.waitForSignal('go');
      secondStarted();
      // Runs until this worker cancels it locally: only possible if the worker still knows it.
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
      return 'stopped';
    });
    const runId = await insert(clock, name);
    const started: { worker?: RunWorker } = {};
    const host = hostOf(repo, clock, definition, {
      // The first execution parked the run (Waiting) and is recording that; before it winds down,
      // a wake-up makes the run runnable and this worker claims it again.
      recordTransition: async (run: RunRecord, state: RunState) => {
        if (state !== RunState.Waiting || executions !== 1) return;
        await repo.wake(run.id, clock.now());
        started.worker?.nudge();
        await second;
      },
    });
    const worker = new RunWorker(host);
    started.worker = worker;
    await worker.start();
    worker.nudge();
    await second;
    // Let the first execution's `finally` run (it was waiting on recordTransition, now resolved).
    for (let i = 0; i < 20; i += 1) await turn();

    assert.equal(executions, 2);
    assert.equal(activeOf(worker).has(runId), true, 'the second execution is still tracked');
    assert.equal(activeOf(worker).size, 1);
    worker.cancelLocal(runId);
    await until(() => activeOf(worker).size === 0);
    await worker.stop(1_000);
  });
});
