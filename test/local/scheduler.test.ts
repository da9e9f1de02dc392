import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { cronTrigger, dateTrigger, intervalTrigger } from '../../src/core/triggers/index.js';
import type { LocalScheduler } from '../../src/local/scheduler.js';
import type { JobContext } from '../../src/local/types.js';
import { flushMicrotasks, type FakeClock } from '../support/fake-clock.js';
import { deferred, fakeScheduler, record, T0 } from './helpers.js';

let current: { clock: FakeClock; scheduler: LocalScheduler } | null = null;
function setup(...args: Parameters<typeof fakeScheduler>): { clock: FakeClock; scheduler: LocalScheduler } {
  current = fakeScheduler(...args);
  return current;
}
afterEach(async () => {
  if (current !== null) {
    const stopping = current.scheduler.stop({ deadlineMs: 10 });
    await current.clock.advance(10);
    await stopping;
    assert.equal(current.clock.pendingTimers, 0, 'a stopped scheduler leaves no timer behind');
  }
  current = null;
});

describe('local scheduler: firing', () => {
  it('fires an interval job on its anchor, never drifting, each fire with its scheduled time', async () => {
    const { clock, scheduler } = setup();
    const fires: { at: number; scheduled: number }[] = [];
    scheduler.every('10s', (ctx) => {
      fires.push({ at: clock.now(), scheduled: ctx.scheduledMs });
    });
    await scheduler.start();
    await clock.advance(35_000);
    assert.deepEqual(
      fires.map((f) => f.at - T0),
      [10_000, 20_000, 30_000],
    );
    assert.deepEqual(
      fires.map((f) => f.scheduled),
      fires.map((f) => f.at),
    );
  });

  it('keeps the anchor when a run is slow: the next fire comes from the trigger, not from when the run ended', async () => {
    const { clock, scheduler } = setup();
    const starts: number[] = [];
    scheduler.every(
      '1s',
      async (ctx) => {
        starts.push(clock.now() - T0);
        await new Promise<void>((resolve) => {
          const timer = clock.setTimer(resolve, 700);
          ctx.signal.addEventListener('abort', () => {
            clock.clearTimer(timer);
            resolve();
          });
        });
      },
      { id: 'slow' },
    );
    await scheduler.start();
    await clock.advance(4_000);
    assert.deepEqual(starts, [1_000, 2_000, 3_000, 4_000]);
  });

  it('fires a cron job at the matching minutes, the first at or after now (APScheduler: next fire >= now)', async () => {
    const { clock, scheduler } = setup();
    const fires: number[] = [];
    scheduler.cron('*/15 * * * *', () => {
      fires.push(clock.now());
    });
    await scheduler.start();
    await clock.advance(60 * 60_000);
    assert.deepEqual(
      fires.map((ms) => new Date(ms).toISOString().slice(11, 16)),
      ['09:00', '09:15', '09:30', '09:45', '10:00'],
    );
  });

  it('runs a date job once, then removes it as finished', async () => {
    const { clock, scheduler } = setup();
    const events = record(scheduler, 'job_removed', 'job_executed');
    scheduler.at(T0 + 5_000, () => 'done', { id: 'once' });
    await scheduler.start();
    await clock.advance(60_000);
    assert.deepEqual(
      events.map((e) => e.name),
      ['job_executed', 'job_removed'],
    );
    assert.equal((events[1]?.payload as { reason?: string } | undefined)?.reason, 'finished');
    assert.equal(scheduler.getJob('once'), undefined);
  });

  it('runs every job due in the same tick in one pass, in due order, with a single timer armed', async () => {
    const { clock, scheduler } = setup();
    const order: string[] = [];
    for (const id of ['c', 'a', 'b']) {
      scheduler.addJob(() => order.push(id), { id, trigger: dateTrigger(T0 + (id === 'c' ? 2_000 : 1_000)) });
    }
    for (let i = 0; i < 100; i += 1) scheduler.every('1s', () => undefined);
    await scheduler.start();
    assert.equal(clock.pendingTimers, 1, 'one timer for 103 jobs');
    await clock.advance(2_000);
    assert.deepEqual(order, ['a', 'b', 'c']);
  });

  it('passes a JobContext with the job id and an abort signal', async () => {
    const { clock, scheduler } = setup();
    let seen: JobContext | null = null;
    scheduler.every('1s', (ctx) => {
      seen = ctx;
    }, { id: 'ctx' });
    await scheduler.start();
    await clock.advance(1_000);
    const ctx = seen as JobContext | null;
    assert.ok(ctx !== null);
    assert.equal(ctx.jobId, 'ctx');
    assert.equal(ctx.attempt, 1);
    assert.equal(ctx.signal.aborted, false);
  });

  it('does not fire before start() and fires nothing while paused; resume() applies the misfire policy', async () => {
    const { clock, scheduler } = setup({ defaults: { misfireGraceTimeMs: 500 } });
    let runs = 0;
    scheduler.every('1s', () => {
      runs += 1;
    }, { id: 'tick' });
    await clock.advance(5_000);
    assert.equal(runs, 0);
    await scheduler.start();
    assert.equal(scheduler.getJob('tick')?.nextRunMs, T0 + 5_000, 'a job added before start is rescheduled from start: no backlog');
    await clock.advance(1_000);
    assert.equal(runs, 2);
    runs = 1;
    scheduler.pause();
    assert.equal(clock.pendingTimers, 0);
    await clock.advance(3_700);
    assert.equal(runs, 1);
    const missed = record(scheduler, 'job_missed');
    scheduler.resume();
    await clock.advance(0);
    assert.equal(runs, 1, 'the fires of the pause (7 s, 8 s, 9 s) are all more than 500 ms late at 9.7 s');
    assert.equal(missed.length, 1);
    assert.equal(missed[0]?.payload.count, 3);
    await clock.advance(300);
    assert.equal(runs, 2);
  });
});

describe('local scheduler: misfire and coalescing', () => {
  it('reports a fire later than the grace time as Missed, with an event, a counter and the state', async () => {
    const { clock, scheduler } = setup();
    const missed = record(scheduler, 'job_missed');
    let runs = 0;
    scheduler.every('10s', () => {
      runs += 1;
    }, { id: 'late', misfireGraceTimeMs: 1_000 });
    await scheduler.start();
    clock.jump(11_500); // the loop was blocked: the 10 s fire is 1.5 s late when the timer runs
    await clock.advance(0);
    assert.equal(runs, 0);
    assert.equal(missed.length, 1);
    assert.deepEqual(
      { ...missed[0]?.payload },
      { jobId: 'late', name: 'late', scheduledMs: T0 + 10_000, lateMs: 1_500, count: 1, coalesced: false },
    );
    const status = scheduler.getJob('late');
    assert.equal(status?.missedCount, 1);
    assert.equal(status?.state, 'Missed');
    assert.equal(status?.nextRunMs, T0 + 20_000, 'the schedule continues on its anchor');
  });

  it('runs a late fire that is within the grace time, reporting its lateness', async () => {
    const { clock, scheduler } = setup();
    const executed = record(scheduler, 'job_executed');
    scheduler.every('10s', () => 'ok', { id: 'j' });
    await scheduler.start();
    clock.jump(10_800);
    await clock.advance(0);
    assert.equal(executed.length, 1);
    assert.equal(executed[0]?.payload.lateMs, 800);
  });

  it('coalesce=true collapses a backlog into one run and reports the rest as missed', async () => {
    const { clock, scheduler } = setup();
    const events = record(scheduler, 'job_missed', 'job_submitted');
    scheduler.every('100ms', () => undefined, { id: 'c', coalesce: true, misfireGraceTimeMs: 1_000 });
    await scheduler.start();
    clock.jump(2_050); // fires at 100..2000 are due: 100..1000 are beyond grace, 1100..2000 within
    await clock.advance(0);
    const submitted = events.filter((e) => e.name === 'job_submitted');
    assert.equal(submitted.length, 1);
    assert.equal(submitted[0]?.payload.scheduledMs, T0 + 2_000, 'the latest fire runs');
    const missed = events.filter((e) => e.name === 'job_missed').map((e) => e.payload);
    assert.deepEqual(
      missed.map((m) => ({ count: 'count' in m ? m.count : 0, coalesced: 'coalesced' in m ? m.coalesced : null })),
      [
        { count: 10, coalesced: false },
        { count: 9, coalesced: true },
      ],
    );
    assert.equal(scheduler.getJob('c')?.missedCount, 19);
    assert.equal(scheduler.getJob('c')?.nextRunMs, T0 + 2_100);
  });

  it('coalesce=false runs each fire still within grace, and reports the ones beyond it', async () => {
    const { clock, scheduler } = setup();
    const scheduled: number[] = [];
    const missed = record(scheduler, 'job_missed');
    scheduler.every('100ms', (ctx) => {
      scheduled.push(ctx.scheduledMs - T0);
    }, { id: 'n', coalesce: false, misfireGraceTimeMs: 250, maxInstances: 10 });
    await scheduler.start();
    clock.jump(1_000);
    await clock.advance(0);
    assert.deepEqual(scheduled, [800, 900, 1_000]);
    assert.equal(missed.length, 1);
    assert.equal(missed[0]?.payload.count, 7);
  });

  it('misfireGraceTimeMs: null runs however late', async () => {
    const { clock, scheduler } = setup();
    let runs = 0;
    scheduler.every('1s', () => {
      runs += 1;
    }, { misfireGraceTimeMs: null });
    await scheduler.start();
    clock.jump(3_600_000);
    await clock.advance(0);
    assert.equal(runs, 1, 'coalesced into one run');
  });
});

describe('local scheduler: instances, jitter, timeouts, errors', () => {
  it('skips a fire while maxInstances runs are going, with an event and a counter', async () => {
    const { clock, scheduler } = setup();
    const skipped = record(scheduler, 'job_max_instances');
    const hold = deferred();
    let starts = 0;
    scheduler.every('1s', async () => {
      starts += 1;
      await hold.promise;
    }, { id: 'busy', maxInstances: 2 });
    await scheduler.start();
    await clock.advance(3_000);
    assert.equal(starts, 2);
    assert.equal(skipped.length, 1);
    assert.deepEqual({ ...skipped[0]?.payload }, { jobId: 'busy', name: 'busy', scheduledMs: T0 + 3_000, running: 2, maxInstances: 2 });
    assert.equal(scheduler.getJob('busy')?.skippedCount, 1);
    assert.equal(scheduler.getJob('busy')?.state, 'Running');
    hold.resolve();
    await clock.advance(1_000);
    assert.equal(starts, 3);
  });

  it('jitter delays each fire within [0, jitterMs], never early and never past the next fire', async () => {
    let draw = 0;
    const draws = [0, 0.999, 0.5, 0.25];
    const { clock, scheduler } = setup({ random: () => draws[draw++ % draws.length] as number });
    const fires: { at: number; scheduled: number }[] = [];
    scheduler.every('10s', (ctx) => {
      fires.push({ at: clock.now(), scheduled: ctx.scheduledMs });
    }, { jitterMs: 3_000 });
    scheduler.every('1s', (ctx) => {
      fires.push({ at: clock.now(), scheduled: ctx.scheduledMs });
    }, { jitterMs: 5_000, id: 'tight' });
    await scheduler.start();
    await clock.advance(40_000);
    assert.ok(fires.length > 30);
    for (const fire of fires) {
      assert.ok(fire.at >= fire.scheduled, 'never early');
    }
    const wide = fires.filter((f) => (f.scheduled - T0) % 10_000 === 0 && f.at - f.scheduled >= 0);
    assert.ok(wide.some((f) => f.at - f.scheduled > 1_000), 'a 3 s jitter does delay');
    const tight = fires.filter((f) => f.at - f.scheduled > 0 && (f.scheduled - T0) % 10_000 !== 0);
    for (const fire of tight) assert.ok(fire.at - fire.scheduled < 1_000, 'never past the next fire of a 1 s job');
  });

  it('aborts a run past timeoutMs: the signal fires, the run is TimedOut, and the slot frees', async () => {
    const { clock, scheduler } = setup();
    const errors = record(scheduler, 'job_error');
    let aborted: unknown = null;
    scheduler.every('10s', (ctx) =>
      new Promise<void>(() => {
        ctx.signal.addEventListener('abort', () => {
          aborted = ctx.signal.reason;
        });
      }),
    { id: 'hang', timeoutMs: 2_000 });
    await scheduler.start();
    await clock.advance(12_000);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.payload.state, 'TimedOut');
    assert.equal(errors[0]?.payload.durationMs, 2_000);
    assert.equal((aborted as Error | null)?.name, 'TimeoutError');
    const status = scheduler.getJob('hang');
    assert.equal(status?.state, 'TimedOut');
    assert.equal(status?.running, 0);
    assert.equal(status?.lastError?.code, 'KAIROS_TIMEOUT');
  });

  it('a timed-out run that ignores its signal shows as "TimedOut (still running)" until its function returns', async () => {
    const { clock, scheduler } = setup();
    const release = deferred();
    let calls = 0;
    scheduler.every('10s', async () => {
      calls += 1;
      if (calls === 1) await release.promise; // ignores ctx.signal
      return 'done';
    }, { id: 'stubborn', timeoutMs: 2_000 });
    await scheduler.start();
    await clock.advance(12_000);
    let status = scheduler.getJob('stubborn');
    assert.equal(status?.state, 'TimedOut');
    assert.equal(status?.stateLabel, 'TimedOut (still running)');
    assert.equal(status?.timedOutRunning, 1);
    assert.equal(status?.running, 0, 'its maxInstances slot is free');

    release.resolve();
    await flushMicrotasks();
    status = scheduler.getJob('stubborn');
    assert.equal(status?.timedOutRunning, 0);
    assert.equal(status?.state, 'TimedOut', 'the late return does not rewrite the outcome');
    assert.equal(status?.stateLabel, 'TimedOut');
    assert.equal(status?.lastResult, null);

    await clock.advance(10_000);
    status = scheduler.getJob('stubborn');
    assert.equal(status?.state, 'Completed');
    assert.equal(status?.stateLabel, 'Completed');
    await scheduler.stop();
  });

  it('a job that throws or rejects is reported and never stops the others', async () => {
    const { clock, scheduler } = setup();
    const errors = record(scheduler, 'job_error');
    let good = 0;
    scheduler.every('1s', () => {
      throw new Error('sync boom');
    }, { id: 'sync-bad' });
    scheduler.every('1s', () => Promise.reject(new Error('async boom')), { id: 'async-bad' });
    scheduler.every('1s', () => {
      throw 'a string'; // eslint-disable-line @typescript-eslint/only-throw-error
    }, { id: 'string-bad' });
    scheduler.every('1s', () => {
      good += 1;
    }, { id: 'good' });
    await scheduler.start();
    await clock.advance(3_000);
    assert.equal(good, 3);
    assert.equal(errors.length, 9);
    assert.deepEqual(scheduler.getJob('sync-bad')?.lastError, { name: 'Error', message: 'sync boom' });
    assert.equal(scheduler.getJob('async-bad')?.state, 'Failed');
    assert.equal(scheduler.getJob('string-bad')?.lastError?.message, 'a string');
  });

  it('keeps a JSON-safe lastResult', async () => {
    const { clock, scheduler } = setup();
    scheduler.every('1s', () => ({ ok: true, n: 1, big: undefined }), { id: 'obj' });
    scheduler.every('1s', () => 10n, { id: 'bigint' });
    await scheduler.start();
    await clock.advance(1_000);
    assert.deepEqual(scheduler.getJob('obj')?.lastResult, { ok: true, n: 1 });
    assert.equal(scheduler.getJob('bigint')?.lastResult, '[unserialisable bigint]');
    assert.equal(scheduler.getJob('obj')?.runCount, 1);
    assert.equal(scheduler.getJob('obj')?.lastRunMs, T0 + 1_000);
  });
});

describe('local scheduler: managing jobs', () => {
  it('pauses, resumes (from now, on the anchor), modifies, reschedules and removes a job', async () => {
    const { clock, scheduler } = setup();
    const events = record(scheduler, 'job_paused', 'job_resumed', 'job_modified', 'job_removed');
    const fires: number[] = [];
    const handle = scheduler.every('10s', () => {
      fires.push(clock.now() - T0);
    }, { id: 'm' });
    await scheduler.start();
    await clock.advance(10_000);
    assert.equal(handle.pause().paused, true);
    await clock.advance(25_000);
    assert.deepEqual(fires, [10_000]);
    assert.equal(handle.resume().nextRunMs, T0 + 40_000);
    await clock.advance(5_000);
    assert.deepEqual(fires, [10_000, 40_000]);

    const replacement: number[] = [];
    handle.modify({ name: 'renamed', fn: () => replacement.push(clock.now() - T0), maxInstances: 3 });
    assert.equal(scheduler.getJob('m')?.name, 'renamed');
    await clock.advance(10_000);
    assert.deepEqual(replacement, [50_000]);

    handle.reschedule(intervalTrigger({ everyMs: 1_000, startMs: clock.now() + 500 }));
    await clock.advance(2_000);
    assert.deepEqual(replacement, [50_000, 50_500, 51_500]);

    handle.remove();
    assert.equal(scheduler.getJob('m'), undefined);
    await clock.advance(10_000);
    assert.equal(replacement.length, 3);
    assert.deepEqual(
      events.map((e) => e.name),
      ['job_paused', 'job_resumed', 'job_modified', 'job_modified', 'job_removed'],
    );
  });

  it('runJobNow runs outside the schedule and reports the outcome; maxInstances still applies', async () => {
    const { clock, scheduler } = setup();
    const hold = deferred<string>();
    scheduler.every('1h', () => hold.promise, { id: 'now' });
    await scheduler.start();
    const first = scheduler.runJobNow('now');
    const second = await scheduler.runJobNow('now');
    assert.equal(second.state, 'Skipped');
    hold.resolve('result');
    const outcome = await first;
    assert.equal(outcome.state, 'Completed');
    assert.equal(outcome.result, 'result');
    assert.equal(scheduler.getJob('now')?.nextRunMs, T0 + 3_600_000, 'the schedule did not move');
    await clock.advance(0);
  });

  it('lists jobs soonest first, with their status', () => {
    const { scheduler } = setup();
    scheduler.every('1h', () => undefined, { id: 'hourly' });
    scheduler.every('1m', () => undefined, { id: 'minutely' });
    scheduler.every('1s', () => undefined, { id: 'paused', paused: true });
    const list = scheduler.listJobs();
    assert.deepEqual(
      list.map((j) => j.id),
      ['minutely', 'hourly', 'paused'],
    );
    assert.equal(list[0]?.trigger.startsWith('every 1m'), true);
    assert.equal(list[2]?.nextRunMs, null);
    assert.equal(list[0]?.state, 'Scheduled');
  });

  it('throws DuplicateJobError for a duplicate id and registers nothing; replaceExisting replaces', async () => {
    const { clock, scheduler } = setup();
    let which = '';
    scheduler.every('1s', () => {
      which = 'first';
    }, { id: 'dup' });
    assert.throws(
      () => scheduler.every('1s', () => undefined, { id: 'dup' }),
      (error: Error & { code?: string }) => error.name === 'DuplicateJobError' && error.code === 'KAIROS_DUPLICATE_JOB',
    );
    assert.equal(scheduler.jobCount, 1);
    const removed = record(scheduler, 'job_removed');
    scheduler.cron('* * * * * *', () => {
      which = 'second';
    }, { id: 'dup', replaceExisting: true });
    assert.equal(scheduler.jobCount, 1);
    assert.equal(removed[0]?.payload.reason, 'replaced');
    await scheduler.start();
    await clock.advance(1_000);
    assert.equal(which, 'second');
  });

  it('unknown ids throw JobNotFoundError', () => {
    const { scheduler } = setup();
    for (const call of [() => scheduler.pauseJob('x'), () => scheduler.resumeJob('x'), () => scheduler.removeJob('x'), () => scheduler.modifyJob('x', {})]) {
      assert.throws(call, { name: 'JobNotFoundError' });
    }
    assert.equal(scheduler.getJob('x'), undefined);
  });

  it('a trigger object built elsewhere can be added with addJob', async () => {
    const { clock, scheduler } = setup();
    let runs = 0;
    scheduler.addJob(() => {
      runs += 1;
    }, { trigger: cronTrigger('0 10 * * *', { timezone: 'Europe/Paris' }), id: 'paris' });
    await scheduler.start();
    assert.equal(scheduler.getJob('paris')?.nextRunMs, T0, '10:00 in Paris is 09:00 UTC in January');
    await clock.advance(3_600_000);
    assert.equal(runs, 1);
    assert.equal(scheduler.getJob('paris')?.nextRunMs, Date.UTC(2026, 0, 6, 9, 0, 0));
  });
});

describe('local scheduler: stop', () => {
  it('waits for running jobs up to the deadline, then aborts and reports them', async () => {
    const { clock, scheduler } = setup();
    const quick = deferred();
    let signal: AbortSignal | null = null;
    scheduler.every('1s', () => quick.promise, { id: 'quick' });
    scheduler.every('1s', (ctx) => {
      signal = ctx.signal;
      return new Promise(() => undefined);
    }, { id: 'stuck' });
    await scheduler.start();
    await clock.advance(1_000);
    const stopped = record(scheduler, 'scheduler_stopped');
    const stopping = scheduler.stop({ deadlineMs: 5_000 });
    quick.resolve();
    await clock.advance(5_000);
    const report = await stopping;
    assert.equal(report.finishedRuns, 1);
    assert.deepEqual(
      report.abortedRuns.map((r) => r.jobId),
      ['stuck'],
    );
    assert.equal((signal as AbortSignal | null)?.aborted, true);
    assert.equal(scheduler.getJob('stuck')?.state, 'Cancelled');
    assert.equal(stopped.length, 1);
    assert.equal(scheduler.state, 'stopped');
    assert.equal(clock.pendingTimers, 0);
    current = null;
  });

  it('stops at once when nothing runs, and can start again', async () => {
    const { clock, scheduler } = setup();
    let runs = 0;
    scheduler.every('1s', () => {
      runs += 1;
    });
    await scheduler.start();
    await clock.advance(1_000);
    const report = await scheduler.stop();
    assert.deepEqual(report, { finishedRuns: 0, abortedRuns: [] });
    await clock.advance(500);
    await scheduler.start();
    await clock.advance(1_000);
    assert.equal(runs, 2);
  });
});
