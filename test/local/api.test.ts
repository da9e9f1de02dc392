import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import type { LocalScheduler } from '../../src/local/scheduler.js';
import { createLocalScheduler } from '../../src/local/scheduler.js';
import type { FakeClock } from '../support/fake-clock.js';
import { fakeScheduler, T0 } from './helpers.js';

let current: { clock: FakeClock; scheduler: LocalScheduler } | null = null;
function setup(): { clock: FakeClock; scheduler: LocalScheduler } {
  current = fakeScheduler();
  return current;
}
afterEach(async () => {
  await current?.scheduler.stop();
  current = null;
});

const noop = (): void => undefined;

describe('seed API: scheduleInternalTask', () => {
  it('takes the seed calls as written: interval seconds, cron hour "*", both trigger and trigger_type spellings', async () => {
    const { clock, scheduler } = setup();
    const fires: Record<string, number[]> = { health: [], metrics: [], cleanup: [], once: [] };
    const handle = scheduler.scheduleInternalTask(() => fires.health?.push(clock.now() - T0), {
      trigger_type: 'interval',
      seconds: 30,
      id: 'health-check',
    });
    assert.equal(handle.id, 'health-check');
    scheduler.scheduleInternalTask(() => fires.metrics?.push(clock.now() - T0), { trigger_type: 'interval', seconds: 60, id: 'metrics' });
    scheduler.scheduleInternalTask(() => fires.cleanup?.push(clock.now() - T0), { trigger: 'cron', hour: '*', id: 'cache-cleanup' });
    scheduler.scheduleInternalTask(() => fires.once?.push(clock.now() - T0), { trigger: 'date', run_date: new Date(T0 + 90_000), id: 'once' });
    await scheduler.start();
    await clock.advance(2 * 3_600_000);
    assert.deepEqual(fires.health?.slice(0, 3), [30_000, 60_000, 90_000]);
    assert.equal(fires.health?.length, 240);
    assert.equal(fires.metrics?.length, 120);
    assert.deepEqual(fires.cleanup, [0, 3_600_000, 7_200_000], "APScheduler: hour='*' means minute 0, second 0 of every hour");
    assert.deepEqual(fires.once, [90_000]);
  });

  it('maps the snake_case job options onto the idiomatic ones (seconds → ms)', () => {
    const { scheduler } = setup();
    scheduler.scheduleInternalTask(noop, {
      trigger_type: 'interval',
      minutes: 5,
      id: 'mapped',
      name: 'Mapped job',
      misfire_grace_time: 30,
      coalesce: false,
      max_instances: 3,
      jitter: 2,
    });
    const status = scheduler.getJob('mapped');
    assert.equal(status?.name, 'Mapped job');
    assert.deepEqual(status?.settings, { misfireGraceTimeMs: 30_000, coalesce: false, maxInstances: 3, jitterMs: 2_000, timeoutMs: null, budgetMs: 5_000 });
    scheduler.scheduleInternalTask(noop, { trigger_type: 'interval', seconds: 1, id: 'no-grace', misfire_grace_time: null });
    assert.equal(scheduler.getJob('no-grace')?.settings.misfireGraceTimeMs, null);
  });

  it('replace_existing replaces; without it a duplicate id throws', () => {
    const { scheduler } = setup();
    scheduler.scheduleInternalTask(noop, { trigger_type: 'interval', seconds: 30, id: 'x' });
    assert.throws(() => scheduler.scheduleInternalTask(noop, { trigger_type: 'interval', seconds: 10, id: 'x' }), { name: 'DuplicateJobError' });
    scheduler.scheduleInternalTask(noop, { trigger_type: 'interval', seconds: 10, id: 'x', replace_existing: true });
    assert.match(scheduler.getJob('x')?.trigger ?? '', /every 10s/);
  });

  it('APScheduler 3 numeric day_of_week counts Monday as 0', () => {
    const { scheduler } = setup();
    // T0 is Monday 2026-01-05 09:00 UTC; day_of_week 0 at 10:00 is the same day.
    scheduler.scheduleInternalTask(noop, { trigger_type: 'cron', day_of_week: 0, hour: 10, id: 'monday' });
    assert.equal(scheduler.getJob('monday')?.nextRunMs, Date.UTC(2026, 0, 5, 10, 0, 0));
  });
});

describe('idiomatic API: every, cron, at', () => {
  it('every() accepts text and ms and anchors at startMs', () => {
    const { scheduler } = setup();
    scheduler.every('1m30s', noop, { id: 'text' });
    scheduler.every(250, noop, { id: 'ms' });
    scheduler.every('10s', noop, { id: 'anchored', startMs: T0 + 3_000 });
    assert.equal(scheduler.getJob('text')?.nextRunMs, T0 + 90_000);
    assert.equal(scheduler.getJob('ms')?.nextRunMs, T0 + 250);
    assert.equal(scheduler.getJob('anchored')?.nextRunMs, T0 + 3_000);
  });

  it('cron() reads the expression in its timezone; at() takes a Date, ms or ISO text', () => {
    const { scheduler } = setup();
    scheduler.cron('30 9 * * *', noop, { id: 'ny', timezone: 'America/New_York' });
    assert.equal(scheduler.getJob('ny')?.nextRunMs, Date.UTC(2026, 0, 5, 14, 30, 0));
    scheduler.at('2026-01-05T10:00:00Z', noop, { id: 'iso' });
    scheduler.at(new Date(T0 + 1_000), noop, { id: 'date' });
    scheduler.at(T0 + 2_000, noop, { id: 'ms' });
    assert.equal(scheduler.getJob('iso')?.nextRunMs, T0 + 3_600_000);
    assert.equal(scheduler.getJob('date')?.nextRunMs, T0 + 1_000);
    assert.equal(scheduler.getJob('ms')?.nextRunMs, T0 + 2_000);
  });
});

describe('bad input: a typed error naming the field, and nothing registered', () => {
  const cases: { what: string; call: (s: LocalScheduler) => unknown; error: string; field?: string }[] = [
    { what: 'zero interval', call: (s) => s.every('0s', noop), error: 'InvalidDurationError' },
    { what: 'negative interval', call: (s) => s.every(-5, noop), error: 'InvalidDurationError' },
    { what: 'interval text', call: (s) => s.every('soon', noop), error: 'InvalidDurationError', field: 'every' },
    { what: 'cron expression', call: (s) => s.cron('61 * * * *', noop), error: 'InvalidCronError' },
    { what: 'cron zone', call: (s) => s.cron('0 2 * * *', noop, { timezone: 'Mars/Olympus' }), error: 'InvalidTimezoneError' },
    { what: 'date text', call: (s) => s.at('next tuesday', noop), error: 'InvalidDateError', field: 'at' },
    { what: 'date in the past', call: (s) => s.at(T0 - 1, noop), error: 'InvalidTriggerError', field: 'trigger' },
    { what: 'unknown option', call: (s) => s.every('1s', noop, { retries: 3 } as never), error: 'ConfigError', field: 'retries' },
    { what: 'negative timeout', call: (s) => s.every('1s', noop, { timeoutMs: -1 }), error: 'InvalidDurationError', field: 'timeoutMs' },
    { what: 'zero timeout', call: (s) => s.every('1s', noop, { timeoutMs: 0 }), error: 'InvalidDurationError', field: 'timeoutMs' },
    { what: 'negative grace', call: (s) => s.every('1s', noop, { misfireGraceTimeMs: -10 }), error: 'InvalidDurationError', field: 'misfireGraceTimeMs' },
    { what: 'negative jitter', call: (s) => s.every('1s', noop, { jitterMs: -1 }), error: 'InvalidDurationError', field: 'jitterMs' },
    { what: 'zero budget', call: (s) => s.every('1s', noop, { budgetMs: 0 }), error: 'InvalidDurationError', field: 'budgetMs' },
    { what: 'maxInstances 0', call: (s) => s.every('1s', noop, { maxInstances: 0 }), error: 'ConfigError', field: 'maxInstances' },
    { what: 'maxInstances 1.5', call: (s) => s.every('1s', noop, { maxInstances: 1.5 }), error: 'ConfigError', field: 'maxInstances' },
    { what: 'coalesce not boolean', call: (s) => s.every('1s', noop, { coalesce: 'yes' as never }), error: 'ConfigError', field: 'coalesce' },
    { what: 'empty id', call: (s) => s.every('1s', noop, { id: '' }), error: 'ConfigError', field: 'id' },
    { what: 'not a function', call: (s) => s.every('1s', 'fn' as never), error: 'ConfigError', field: 'fn' },
    { what: 'persistent without store', call: (s) => s.every('1s', noop, { id: 'p', persistent: true }), error: 'ConfigError', field: 'persistent' },
    { what: 'addJob without trigger', call: (s) => s.addJob(noop, { trigger: {} as never }), error: 'InvalidTriggerError', field: 'trigger' },
    { what: 'seed: unknown kind', call: (s) => s.scheduleInternalTask(noop, { trigger_type: 'weekly' as never, seconds: 1 }), error: 'InvalidTriggerError', field: 'trigger_type' },
    { what: 'seed: no kind', call: (s) => s.scheduleInternalTask(noop, { seconds: 1 }), error: 'InvalidTriggerError', field: 'trigger_type' },
    {
      what: 'seed: kinds disagree',
      call: (s) => s.scheduleInternalTask(noop, { trigger: 'cron', trigger_type: 'interval', seconds: 1 }),
      error: 'ConfigError',
      field: 'trigger_type',
    },
    { what: 'seed: zero interval', call: (s) => s.scheduleInternalTask(noop, { trigger_type: 'interval', seconds: 0 }), error: 'InvalidDurationError' },
    {
      what: 'seed: negative seconds',
      call: (s) => s.scheduleInternalTask(noop, { trigger_type: 'interval', seconds: -30 }),
      error: 'InvalidDurationError',
      field: 'seconds',
    },
    {
      what: 'seed: unknown field',
      call: (s) => s.scheduleInternalTask(noop, { trigger_type: 'interval', seconds: 30, sekonds: 5 } as never),
      error: 'InvalidTriggerError',
      field: 'sekonds',
    },
    { what: 'seed: bad cron field', call: (s) => s.scheduleInternalTask(noop, { trigger_type: 'cron', hour: 25 }), error: 'InvalidTriggerError' },
    {
      what: 'seed: bad zone',
      call: (s) => s.scheduleInternalTask(noop, { trigger_type: 'cron', hour: 2, timezone: 'Nowhere/City' }),
      error: 'InvalidTimezoneError',
    },
    {
      what: 'seed: bad run_date',
      call: (s) => s.scheduleInternalTask(noop, { trigger_type: 'date', run_date: '2026-02-30 10:00' }),
      error: 'InvalidDateError',
      field: 'run_date',
    },
    {
      what: 'seed: negative misfire_grace_time',
      call: (s) => s.scheduleInternalTask(noop, { trigger_type: 'interval', seconds: 1, misfire_grace_time: -1 }),
      error: 'InvalidDurationError',
      field: 'misfire_grace_time',
    },
    {
      what: 'seed: max_instances 0',
      call: (s) => s.scheduleInternalTask(noop, { trigger_type: 'interval', seconds: 1, max_instances: 0 }),
      error: 'ConfigError',
      field: 'maxInstances',
    },
  ];
  for (const testCase of cases) {
    it(testCase.what, () => {
      const { scheduler } = setup();
      scheduler.every('1h', noop, { id: 'existing' });
      assert.throws(
        () => testCase.call(scheduler),
        (error: Error & { code?: string; details?: Record<string, unknown> }) => {
          assert.equal(error.name, testCase.error, error.message);
          assert.match(error.code ?? '', /^KAIROS_/);
          if (testCase.field !== undefined) assert.equal(error.details?.field, testCase.field, error.message);
          return true;
        },
      );
      assert.equal(scheduler.jobCount, 1, 'nothing half-registered');
      assert.deepEqual(
        scheduler.listJobs().map((j) => j.id),
        ['existing'],
      );
    });
  }

  it('bad scheduler options are typed errors too', () => {
    assert.throws(() => createLocalScheduler({ budgetMs: 0 }), { name: 'InvalidDurationError' });
    assert.throws(() => createLocalScheduler({ defaults: { maxInstances: 0 } }), { name: 'ConfigError' });
    assert.throws(() => createLocalScheduler({ tick: 1 } as never), { name: 'ConfigError' });
    assert.throws(() => createLocalScheduler({ eventLoopBlockMs: -1 }), { name: 'InvalidDurationError' });
  });

  it('a failed modifyJob or rescheduleJob changes nothing', () => {
    const { scheduler } = setup();
    scheduler.every('1m', noop, { id: 'keep', maxInstances: 2 });
    const before = scheduler.getJob('keep');
    assert.throws(() => scheduler.modifyJob('keep', { maxInstances: 5, timeoutMs: -1 }), { name: 'InvalidDurationError' });
    assert.throws(() => scheduler.modifyJob('keep', { trigger: 1 } as never), { name: 'ConfigError' });
    assert.throws(() => scheduler.rescheduleJob('keep', { next: () => null, describe: () => 'never', toSpec: () => ({ kind: 'date', atMs: 0 }) }), {
      name: 'InvalidTriggerError',
    });
    assert.deepEqual(scheduler.getJob('keep'), before);
  });
});
