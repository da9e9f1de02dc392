import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/core/logger.js';
import { RunState } from '../../src/core/states.js';
import { LeaseLostError } from '../../src/errors.js';
import type { RunExecution } from '../../src/engine/runtime/execution.js';
import { runStep, runStepInOneWrite } from '../../src/engine/runtime/step-runner.js';
import { createPostgresEngineRepository } from '../../src/engine/store/postgres.js';
import type { ClaimedRun, EngineRepository } from '../../src/engine/store/repository.js';
import { createSqliteEngineRepository } from '../../src/engine/store/sqlite.js';
import { StepKind } from '../../src/engine/types.js';
import type { Store } from '../../src/store/store.js';
import { dialects, freshStore } from './support.js';
import { FakeClock } from './support/fake-clock.js';

const T0 = 1_700_000_000_000;
const LEASE_MS = 1_000;

function executionOf(repo: EngineRepository, clock: FakeClock, claimed: ClaimedRun, signal: AbortSignal): RunExecution {
  const noop = (): undefined => undefined;
  return {
    run: claimed.run,
    repo,
    lease: claimed.lease,
    clock,
    logger: silentLogger,
    workerId: claimed.lease.owner,
    queues: new Set(['default']),
    signal,
    maxRecordBytes: 1_000_000,
    emitStep: noop,
    stepLogger: () => ({ debug: noop, info: noop, warn: noop, error: noop }),
    flushLogs: () => Promise.resolve(),
    acquireTagSlot: () => Promise.reject(new Error('no tags in this test')),
    startChild: () => Promise.reject(new Error('no children in this test')),
  };
}

const step = (key: string, run: () => unknown, retries?: { count: number; delayMs: number }) => ({
  key,
  kind: StepKind.Step,
  inputJson: null,
  label: `step '${key}'`,
  run,
  ...(retries === undefined ? {} : { retries }),
});

for (const { dialect, skip } of await dialects('lease fencing')) {
  describe(`journal writes are fenced by the claim's lease (${dialect})`, { skip }, () => {
    let store: Store;
    let repo: EngineRepository;
    before(async () => {
      store = await freshStore(dialect);
      repo = store.dialect === 'sqlite' ? createSqliteEngineRepository(store) : createPostgresEngineRepository(store);
    });
    after(async () => {
      await store.close();
    });

    const newRun = async (clock: FakeClock, name: string): Promise<string> => {
      const id = randomUUID();
      await repo.insertRun({ id, kind: 'workflow', name, paramsJson: null, parentRunId: null, deploymentId: null, idempotencyKey: null, tags: [], scheduledMs: clock.now(), nowMs: clock.now() });
      return id;
    };
    const claim = async (clock: FakeClock, workerId: string, name: string): Promise<ClaimedRun> => {
      const [claimed] = await repo.claimRuns({ workerId, names: [name], queues: ['default'], limit: 1, leaseMs: LEASE_MS, nowMs: clock.now() });
      assert.ok(claimed !== undefined, `${workerId} claims the run`);
      return claimed;
    };

    // The same worker id on both claims: the token, not the owner, tells them apart.
    for (const ownerB of ['worker-b', 'worker-a']) {
      it(`an executor whose run was taken over (by ${ownerB}) cannot write; the new holder completes the run, each step recorded once`, async () => {
        const clock = new FakeClock(T0);
        const name = `fenced-${randomUUID().slice(0, 8)}`;
        const runId = await newRun(clock, name);
        const a = await claim(clock, 'worker-a', name);
        const aExecution = executionOf(repo, clock, a, new AbortController().signal);
        const ran: string[] = [];

        assert.deepEqual(await runStep(aExecution, step('one', () => (ran.push('a:one'), 'a-one'))), { ok: true, output: 'a-one', replayed: false });

        // A starts step two and stalls in it past its lease; B takes the run over meanwhile.
        let resume: () => void = () => undefined;
        const stalled = new Promise<void>((resolve) => (resume = resolve));
        const aTwo = runStep(aExecution, step('two', async () => (ran.push('a:two'), await stalled, 'a-two')));
        while (!ran.includes('a:two')) await new Promise((resolve) => setImmediate(resolve));
        clock.advance(LEASE_MS + 1);
        const b = await claim(clock, ownerB, name);
        assert.equal(b.previousState, RunState.Running);
        assert.notEqual(b.lease.token, a.lease.token);

        // A wakes up: its outcome of step two is refused and nothing it tries next is written.
        resume();
        await assert.rejects(aTwo, LeaseLostError);
        await assert.rejects(runStep(aExecution, step('three', () => (ran.push('a:three'), 'a-three'))), LeaseLostError);
        await assert.rejects(runStepInOneWrite(aExecution, step('four', () => 'a-four')), LeaseLostError);
        await assert.rejects(repo.markStep(a.lease, 'two', RunState.Retrying, { wakeMs: clock.now() + 10 }), LeaseLostError);
        assert.deepEqual(ran, ['a:one', 'a:two'], 'step three never ran: beginStep was refused first');
        assert.equal(await repo.heartbeat(a.lease, clock.now() + LEASE_MS, clock.now()), false);
        assert.equal(await repo.suspendRun(a.lease, null, a.wakeups, clock.now()), false);
        assert.equal(await repo.finishRun(a.lease, { state: RunState.Failed, resultJson: null, error: null, message: 'stale', nowMs: clock.now() }), false);
        await repo.releaseRun(a.lease, clock.now());
        const stillB = await repo.getRun(runId);
        assert.equal(stillB?.state, RunState.Running);
        assert.equal(stillB.leaseOwner, ownerB, "A's release did not drop B's lease");

        // B replays step one, runs two, three and four itself, and finishes the run.
        const bExecution = executionOf(repo, clock, b, new AbortController().signal);
        assert.deepEqual(await runStep(bExecution, step('one', () => (ran.push('b:one'), 'b-one'))), { ok: true, output: 'a-one', replayed: true });
        assert.deepEqual(await runStep(bExecution, step('two', () => (ran.push('b:two'), 'b-two'))), { ok: true, output: 'b-two', replayed: false });
        assert.deepEqual(await runStep(bExecution, step('three', () => (ran.push('b:three'), 'b-three'))), { ok: true, output: 'b-three', replayed: false });
        assert.deepEqual(await runStepInOneWrite(bExecution, step('four', () => 'b-four')), { ok: true, output: 'b-four', replayed: false });
        assert.equal(await repo.finishRun(b.lease, { state: RunState.Completed, resultJson: '"done"', error: null, message: null, nowMs: clock.now() }), true);

        const steps = await repo.listSteps(runId);
        assert.deepEqual(
          steps.map((row) => [row.key, row.state, row.output]),
          [
            ['one', RunState.Completed, 'a-one'],
            ['two', RunState.Completed, 'b-two'],
            ['three', RunState.Completed, 'b-three'],
            ['four', RunState.Completed, 'b-four'],
          ],
          'each step once, with the holder’s output',
        );
        assert.equal(steps.find((row) => row.key === 'two')?.attempt, 2, "A's attempt and B's: the journal counted both starts, B's under B's lease");
        assert.deepEqual(ran, ['a:one', 'a:two', 'b:two', 'b:three']);
        const run = await repo.getRun(runId);
        assert.equal(run?.state, RunState.Completed);
        assert.equal(run.leaseOwner, null);
      });
    }

    it('a released run (clean shutdown) takes the token with it: the releasing executor cannot write after', async () => {
      const clock = new FakeClock(T0);
      const name = `released-${randomUUID().slice(0, 8)}`;
      await newRun(clock, name);
      const a = await claim(clock, 'worker-a', name);
      await repo.releaseRun(a.lease, clock.now());
      await assert.rejects(repo.beginStep({ lease: a.lease, key: 'x', kind: StepKind.Step, inputJson: null, inputHash: null, queue: null, state: RunState.Running, nowMs: clock.now() }), LeaseLostError);
      const again = await claim(clock, 'worker-a', name);
      const row = await repo.beginStep({ lease: again.lease, key: 'x', kind: StepKind.Step, inputJson: null, inputHash: null, queue: null, state: RunState.Running, nowMs: clock.now() });
      assert.equal(row.attempt, 1);
    });
  });
}
