import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Logger } from '../../src/core/logger.js';
import { createLocalScheduler } from '../../src/local/scheduler.js';
import { deferred, fakeScheduler, record } from './helpers.js';

function busyWaitMs(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // hold the loop on purpose
  }
}

function capturingLogger(): { logger: Logger; warnings: string[] } {
  const warnings: string[] = [];
  const noop = (): void => undefined;
  return { logger: { debug: noop, info: noop, error: noop, warn: (_obj, msg) => warnings.push(msg ?? '') }, warnings };
}

describe('local lane checklist, enforced at run time', () => {
  it('a run past budgetMs is a misfit while it runs: event, warn line (once), status flag, suggested lane', async () => {
    const { logger, warnings } = capturingLogger();
    const { clock, scheduler } = fakeScheduler({ budgetMs: 5_000, logger });
    const misfits = record(scheduler, 'job_misfit');
    const hold = deferred();
    scheduler.every('1m', () => hold.promise, { id: 'slow-export', maxInstances: 5 });
    scheduler.every('1m', () => undefined, { id: 'fast' });
    await scheduler.start();
    await clock.advance(60_000 + 5_000);
    assert.equal(misfits.length, 0, 'exactly at the budget is not past it');
    await clock.advance(1);
    assert.equal(misfits.length, 1, 'reported while still running, not only when it ends');
    const misfit = misfits[0]?.payload;
    assert.equal(misfit?.jobId, 'slow-export');
    assert.equal(misfit?.reason, 'over-budget');
    assert.equal(misfit?.suggestedLane, 'queue');
    assert.equal(misfit?.durationMs, 5_001);
    assert.equal(misfit?.limitMs, 5_000);
    assert.match(misfit?.message ?? '', /queue/);
    const status = scheduler.getJob('slow-export');
    assert.equal(status?.misfit, true);
    assert.match(status?.misfitReason ?? '', /^over-budget/);
    assert.equal(scheduler.getJob('fast')?.misfit, false);
    assert.equal(warnings.filter((w) => w.includes('does not fit the local lane')).length, 1);

    await clock.advance(60_000); // a second overlong run: another event, no second warn line
    assert.equal(misfits.length, 2);
    assert.equal(warnings.filter((w) => w.includes('does not fit the local lane')).length, 1);
    hold.resolve();
    await clock.advance(0);
    assert.equal(misfits.length, 2, 'the end of a run already reported is not reported again');
    await scheduler.stop();
  });

  it('a per-job budgetMs overrides the scheduler budget', async () => {
    const { clock, scheduler } = fakeScheduler();
    const misfits = record(scheduler, 'job_misfit');
    scheduler.every('10s', () => new Promise<void>((resolve) => clock.setTimer(resolve, 300)), { budgetMs: 200 });
    await scheduler.start();
    await clock.advance(10_300);
    assert.equal(misfits.length, 1);
    assert.equal(misfits[0]?.payload.limitMs, 200);
    await scheduler.stop();
  });

  it('a job whose synchronous part blocks the event loop is a blocked-loop misfit, measured in real time', async () => {
    const { clock, scheduler } = fakeScheduler({ eventLoopBlockMs: 40 });
    const misfits = record(scheduler, 'job_misfit');
    scheduler.every('1s', () => busyWaitMs(60), { id: 'cpu-hog' });
    scheduler.every('1s', () => busyWaitMs(1), { id: 'polite' });
    await scheduler.start();
    await clock.advance(1_000);
    assert.deepEqual(
      misfits.map((m) => [m.payload.jobId, m.payload.reason, m.payload.suggestedLane]),
      [['cpu-hog', 'blocked-loop', 'queue']],
    );
    assert.ok((misfits[0]?.payload.durationMs ?? 0) >= 60);
    assert.equal(scheduler.getJob('polite')?.misfit, false);
    await scheduler.stop();
  });

  it('the lag probe blames a block that happens after an await on the job that was running', async () => {
    const scheduler = createLocalScheduler({ eventLoopBlockMs: 40 });
    const misfits = record(scheduler, 'job_misfit');
    scheduler.every('1h', async () => {
      await new Promise((resolve) => setImmediate(resolve));
      busyWaitMs(150);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }, { id: 'late-hog' });
    await scheduler.start();
    const outcome = await scheduler.runJobNow('late-hog');
    assert.equal(outcome.state, 'Completed');
    const blamed = misfits.filter((m) => m.payload.reason === 'blocked-loop');
    assert.ok(blamed.length >= 1, 'the probe saw the 150 ms block');
    assert.equal(blamed[0]?.payload.jobId, 'late-hog');
    assert.match(blamed[0]?.payload.message ?? '', /after an await/);
    await scheduler.stop();
  });
});
