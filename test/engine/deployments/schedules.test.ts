import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { rruleTrigger } from '../../../src/core/triggers/rrule.js';
import { ConfigError, DeploymentNotFoundError, InvalidCronError, InvalidTimezoneError, InvalidTriggerError } from '../../../src/errors.js';
import { createHarness, type Harness } from './support/harness.js';

const etl = { kind: 'flow', name: 'etl' } as const;
const iso = (ms: number | undefined) => (ms === undefined ? 'none' : new Date(ms).toISOString());

describe('catch-up window', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('fires missed while the scheduler was down start if within the window, older ones are recorded Missed', async () => {
    const t0 = Date.UTC(2025, 0, 6, 0, 0, 0);
    h = await createHarness(t0);
    const d = await h.deployments.deploy(etl, { name: 'etl', schedule: { cron: '* * * * *' }, overlap: 'allow_all', catchupWindowMs: '3m' });
    await h.scheduler.stop();
    // Down for 10 minutes: fires at minutes 1..10; on restart at 10:30 the window covers 7:30..10:30.
    h.clock.set(t0 + 10 * 60_000 + 30_000);
    h.scheduler.start();
    await h.scheduler.whenIdle();
    const history = (await h.deployments.history(d.name)).reverse();
    assert.deepEqual(
      history.map((f) => [(f.fireMs - t0) / 60_000, f.state]),
      [[1, 'Missed'], [2, 'Missed'], [3, 'Missed'], [4, 'Missed'], [5, 'Missed'], [6, 'Missed'], [7, 'Missed'], [8, 'Started'], [9, 'Started'], [10, 'Started']],
    );
    assert.deepEqual((await h.launcher.runs(d.id)).map((r) => (r.scheduledMs - t0) / 60_000), [8, 9, 10]);
    assert.equal((await h.deployments.get(d.name)).lastFireMs, t0 + 10 * 60_000, 'the cursor moved past every fire dealt with');
  });

  it('a paused deployment does not fire; on resume the paused stretch is dropped, not caught up', async () => {
    const t0 = Date.UTC(2025, 0, 6, 0, 0, 0);
    h = await createHarness(t0);
    const d = await h.deployments.deploy(etl, { name: 'etl', schedule: { cron: '* * * * *' }, overlap: 'allow_all' });
    await h.advance(60_000);
    await h.deployments.pause(d.name);
    await h.advance(5 * 60_000);
    await h.deployments.resume(d.name);
    h.scheduler.wake();
    await h.advance(60_000);
    assert.deepEqual((await h.launcher.runs(d.id)).map((r) => (r.scheduledMs - t0) / 60_000), [1, 7]);
  });

  it('jitter delays a start (never early) by a stable amount below jitterMs', async () => {
    const t0 = Date.UTC(2025, 0, 6, 0, 0, 0);
    h = await createHarness(t0);
    const d = await h.deployments.deploy(etl, { name: 'etl', schedule: { every: '1m', anchorMs: t0 }, jitterMs: '20s', overlap: 'allow_all' });
    await h.advance(60_000);
    await h.advance(20_000);
    const started = h.fires.filter((f) => f.state === 'Started');
    assert.equal(started.length, 1);
    const lateness = (started[0]?.atMs ?? 0) - (started[0]?.fireMs ?? 0);
    assert.ok(lateness >= 0 && lateness < 20_000, `lateness ${lateness}`);
    assert.equal((await h.launcher.runs(d.id))[0]?.scheduledMs, t0 + 60_000, 'the run keeps its nominal fire time');
  });
});

describe('DST across real transitions (America/New_York)', () => {
  let h: Harness;
  afterEach(async () => h.close());

  async function dailyRuns(schedule: { cron: string; timezone: string } | { rrule: string; timezone: string }, fromMs: number, days: number) {
    h = await createHarness(fromMs);
    const d = await h.deployments.deploy(etl, { name: 'daily', schedule, overlap: 'allow_all', catchupWindowMs: '1h' });
    for (let i = 0; i < days * 24; i += 1) await h.advance(3_600_000);
    return (await h.launcher.runs(d.id)).map((r) => iso(r.scheduledMs));
  }

  it('cron 02:30 daily across the spring gap fires once, at 03:00 local, on 2025-03-09', async () => {
    const runs = await dailyRuns({ cron: '30 2 * * *', timezone: 'America/New_York' }, Date.UTC(2025, 2, 8, 12), 3);
    assert.deepEqual(runs, ['2025-03-09T07:00:00.000Z', '2025-03-10T06:30:00.000Z', '2025-03-11T06:30:00.000Z']);
  });

  it('cron 01:30 daily across the fall-back repeat fires once on 2025-11-02', async () => {
    const runs = await dailyRuns({ cron: '30 1 * * *', timezone: 'America/New_York' }, Date.UTC(2025, 10, 1, 12), 3);
    assert.deepEqual(runs, ['2025-11-02T05:30:00.000Z', '2025-11-03T06:30:00.000Z', '2025-11-04T06:30:00.000Z']);
  });

  it('rrule daily 02:30 and 01:30 follow the same rule', async () => {
    const spring = await dailyRuns({ rrule: 'FREQ=DAILY;BYHOUR=2;BYMINUTE=30', timezone: 'America/New_York' }, Date.UTC(2025, 2, 8, 12), 2);
    assert.deepEqual(spring, ['2025-03-09T07:00:00.000Z', '2025-03-10T06:30:00.000Z']);
    await h.close();
    const fall = await dailyRuns({ rrule: 'FREQ=DAILY;BYHOUR=1;BYMINUTE=30', timezone: 'America/New_York' }, Date.UTC(2025, 10, 1, 12), 2);
    assert.deepEqual(fall, ['2025-11-02T05:30:00.000Z', '2025-11-03T06:30:00.000Z']);
  });

  it('rruleTrigger: weekly Monday 06:00 in Europe/London, next() strictly increasing', () => {
    const trigger = rruleTrigger('FREQ=WEEKLY;BYDAY=MO;BYHOUR=6', { timezone: 'Europe/London', startMs: Date.UTC(2025, 2, 20) });
    const fires: string[] = [];
    for (let at = trigger.next(Date.UTC(2025, 2, 20)); at !== null && fires.length < 3; at = trigger.next(at)) fires.push(iso(at));
    assert.deepEqual(fires, ['2025-03-24T06:00:00.000Z', '2025-03-31T05:00:00.000Z', '2025-04-07T05:00:00.000Z']);
  });
});

describe('deployment validation and lifecycle', () => {
  let h: Harness;
  afterEach(async () => h.close());

  it('refuses bad input with typed errors naming the field, storing nothing', async () => {
    h = await createHarness(Date.UTC(2025, 0, 1));
    const field = (name: string) => (e: unknown) => (e as { details?: { field?: string } }).details?.field === name;
    await assert.rejects(h.deployments.deploy(etl, { name: 'x', schedule: { cron: 'not a cron' } }), InvalidCronError);
    await assert.rejects(h.deployments.deploy(etl, { name: 'x', schedule: { cron: '0 * * * *', timezone: 'Mars/Olympus' } }), InvalidTimezoneError);
    await assert.rejects(h.deployments.deploy(etl, { name: 'x', schedule: { rrule: 'BYHOUR=2' } }), InvalidTriggerError);
    await assert.rejects(h.deployments.deploy(etl, { name: 'x', overlap: 'sometimes' as never }), field('overlap'));
    await assert.rejects(h.deployments.deploy(etl, { name: 'x', maxActiveRuns: 0 }), field('maxActiveRuns'));
    await assert.rejects(h.deployments.deploy(etl, { name: 'x', startMs: 10, endMs: 5 }), field('endMs'));
    await assert.rejects(h.deployments.deploy(etl, { name: 'x', scheduel: {} } as never), field('scheduel'));
    await assert.rejects(h.deployments.deploy({ kind: 'dag', name: 'etl' } as never, { name: 'x' }), ConfigError);
    assert.deepEqual(await h.deployments.list(), []);
    await assert.rejects(h.deployments.get('x'), DeploymentNotFoundError);
  });

  it('deploying an existing name updates it (apply); update/trigger/delete', async () => {
    h = await createHarness(Date.UTC(2025, 0, 1));
    const first = await h.deployments.deploy(etl, { name: 'etl', schedule: { cron: '0 6 * * 1' }, parameters: { a: 1 } });
    const second = await h.deployments.deploy(etl, { name: 'etl', schedule: { cron: '0 6 * * 1' }, parameters: { a: 2 } });
    assert.equal(second.id, first.id);
    const updated = await h.deployments.update('etl', { overlap: 'allow_all' });
    assert.deepEqual([updated.overlap, updated.parameters], ['allow_all', { a: 2 }]);
    assert.deepEqual(h.deployments.upcoming(updated, 2).map(iso), ['2025-01-06T06:00:00.000Z', '2025-01-13T06:00:00.000Z']);
    const manual = await h.deployments.trigger('etl', { parameters: { b: 3 } });
    assert.equal(manual.state, 'Started');
    assert.deepEqual((await h.launcher.runs(first.id))[0]?.params, { a: 2, b: 3 });
    await h.deployments.delete('etl');
    assert.deepEqual(await h.deployments.list(), []);
  });
});

describe('seed-compatible Deployment.build', () => {
  it('mirrors Prefect: Deployment.build({ flow, name, schedule: new CronSchedule(...) }).apply()', async () => {
    const { Deployment, CronSchedule } = await import('../../../src/engine/deployments/seed.js');
    const h = await createHarness(Date.UTC(2025, 0, 1));
    try {
      const deployment = Deployment.build({
        flow: { kind: 'flow', name: 'complex-etl' },
        name: 'complex-etl-prod',
        schedule: new CronSchedule({ cron: '0 6 * * 1' }),
        deployments: h.deployments,
      });
      const stored = await deployment.apply();
      assert.deepEqual(stored.schedule, { kind: 'cron', expression: '0 6 * * 1', timezone: 'UTC' });
      assert.deepEqual(h.deployments.upcoming(stored, 1).map(iso), ['2025-01-06T06:00:00.000Z']);
      assert.throws(() => Deployment.build({ flow: 'x', name: 'x' }).apply(), ConfigError);
    } finally {
      await h.close();
    }
  });
});
