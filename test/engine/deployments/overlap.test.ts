import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createHarness, type Harness } from './support/harness.js';

const T0 = Date.UTC(2025, 0, 6, 0, 0, 0);
const target = { kind: 'flow', name: 'etl' } as const;

describe('overlap policies (Temporal semantics), fake clock, embedded store', () => {
  let h: Harness;
  afterEach(async () => h.close());

  async function deployEveryMinute(overlap: 'skip' | 'buffer_one' | 'buffer_all' | 'cancel_other' | 'allow_all', maxActiveRuns?: number) {
    const d = await h.deployments.deploy(target, { name: `etl-${overlap}`, schedule: { cron: '* * * * *' }, overlap, maxActiveRuns });
    h.scheduler.wake();
    return d;
  }
  const states = () => h.fires.map((f) => f.state);

  it('skip: a fire while the run is active is recorded Skipped; the next one after it finishes starts', async () => {
    h = await createHarness(T0);
    const d = await deployEveryMinute('skip');
    await h.advance(60_000);
    const [first] = await h.launcher.runs(d.id);
    assert.ok(first);
    await h.advance(60_000);
    await h.advance(60_000);
    assert.deepEqual(states(), ['Started', 'Skipped', 'Skipped']);
    await h.launcher.finish(first.id);
    await h.advance(60_000);
    assert.deepEqual(states(), ['Started', 'Skipped', 'Skipped', 'Started']);
    const history = await h.deployments.history(d.name);
    assert.equal(history.filter((f) => f.state === 'Skipped').length, 2);
    assert.match(history.find((f) => f.state === 'Skipped')?.reason ?? '', /overlap: skip/);
  });

  it('buffer_one: one start waits for the running one; a second arrival is Skipped; the buffered one starts when the run ends', async () => {
    h = await createHarness(T0);
    const d = await deployEveryMinute('buffer_one');
    await h.advance(180_000);
    assert.deepEqual(states(), ['Started', 'Buffered', 'Skipped']);
    const [first] = await h.launcher.runs(d.id);
    await h.launcher.finish(first?.id ?? '');
    await h.scheduler.whenIdle();
    await new Promise((resolve) => setImmediate(resolve));
    await h.deployments.processor.drain(await h.deployments.get(d.name));
    const runs = await h.launcher.runs(d.id);
    assert.equal(runs.length, 2);
    assert.equal(runs[1]?.scheduledMs, T0 + 120_000, 'the buffered fire (the second minute) is the one that starts');
  });

  it('buffer_all: every fire waits and they start one after another in fire order', async () => {
    h = await createHarness(T0);
    const d = await deployEveryMinute('buffer_all');
    await h.advance(240_000);
    assert.deepEqual(states(), ['Started', 'Buffered', 'Buffered', 'Buffered']);
    for (let i = 0; i < 3; i += 1) {
      const active = await h.launcher.activeRuns(d.id);
      assert.equal(active.length, 1, 'never more than one at a time');
      await h.launcher.finish(active[0] ?? '');
      await h.deployments.processor.drain(await h.deployments.get(d.name));
    }
    const runs = await h.launcher.runs(d.id);
    assert.deepEqual(runs.map((r) => r.scheduledMs), [1, 2, 3, 4].map((m) => T0 + m * 60_000));
  });

  it('cancel_other: the running run is cancelled and the new fire starts', async () => {
    h = await createHarness(T0);
    const d = await deployEveryMinute('cancel_other');
    await h.advance(60_000);
    await h.advance(60_000);
    const runs = await h.launcher.runs(d.id);
    assert.deepEqual(runs.map((r) => r.state), ['Cancelled', 'Running']);
    assert.equal(runs[1]?.scheduledMs, T0 + 120_000);
    assert.deepEqual(states(), ['Started', 'Buffered', 'Started']);
  });

  it('allow_all: runs overlap; with maxActiveRuns the extra fires wait', async () => {
    h = await createHarness(T0);
    const open = await deployEveryMinute('allow_all');
    await h.advance(180_000);
    assert.equal((await h.launcher.activeRuns(open.id)).length, 3);
    await h.deployments.delete(open.name);
    h.fires.length = 0;
    const bounded = await deployEveryMinute('allow_all', 2);
    await h.advance(180_000);
    assert.deepEqual(states(), ['Started', 'Started', 'Buffered']);
    assert.equal((await h.launcher.activeRuns(bounded.id)).length, 2);
  });

  it('a fire is recorded once even when the scheduler is woken repeatedly at the same instant', async () => {
    h = await createHarness(T0);
    const d = await deployEveryMinute('allow_all');
    await h.advance(60_000);
    for (let i = 0; i < 5; i += 1) h.scheduler.wake();
    await h.scheduler.whenIdle();
    assert.equal((await h.launcher.runs(d.id)).length, 1);
    assert.equal((await h.deployments.history(d.name)).length, 1);
  });
});
