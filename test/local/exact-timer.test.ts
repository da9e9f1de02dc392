import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExactTimer } from '../../src/local/exact-timer.js';
import { createLocalScheduler } from '../../src/local/scheduler.js';
import { ConfigError } from '../../src/errors.js';

describe('ExactTimer', () => {
  it('calls back once Date.now() has reached the target, never before', async () => {
    for (const aheadMs of [0, 1, 3, 12]) {
      const targetMs = Date.now() + aheadMs;
      const firedAtMs = await new Promise<number>((resolve) => new ExactTimer(() => resolve(Date.now())).set(targetMs));
      assert.ok(firedAtMs >= targetMs, `target +${aheadMs} ms: fired at ${firedAtMs}, target ${targetMs}`);
    }
  });

  it('a past target fires on the next turn; clear() cancels; set() replaces the pending target', async () => {
    const fired: string[] = [];
    const timer = new ExactTimer(() => fired.push('fired'));
    timer.set(Date.now() - 50);
    assert.equal(timer.pending, true);
    timer.clear();
    assert.equal(timer.pending, false);
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.deepEqual(fired, [], 'cleared: nothing fires');

    const firedAt: number[] = [];
    const replaced = new ExactTimer(() => firedAt.push(Date.now()));
    const farMs = Date.now() + 60_000;
    replaced.set(farMs);
    const nearMs = Date.now() + 5;
    replaced.set(nearMs);
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(firedAt.length, 1, 'one callback, for the replacing target');
    assert.ok((firedAt[0] ?? 0) >= nearMs);
    assert.equal(replaced.pending, false);
  });
});

describe('exactTimers option', () => {
  it('on (default) and off both fire every-20 ms jobs on their anchored grid, never early', async () => {
    for (const exactTimers of [true, false]) {
      const scheduler = createLocalScheduler({ exactTimers });
      const fires: { scheduledMs: number; atMs: number }[] = [];
      const three = new Promise<void>((resolve) => {
        scheduler.every(20, (ctx) => {
          fires.push({ scheduledMs: ctx.scheduledMs, atMs: Date.now() });
          if (fires.length === 3) resolve();
        });
      });
      await scheduler.start();
      await three;
      await scheduler.stop();
      assert.deepEqual(
        fires.slice(1).map((fire, i) => fire.scheduledMs - (fires[i]?.scheduledMs ?? 0)),
        [20, 20],
        `exactTimers ${exactTimers}: consecutive anchored fires`,
      );
      for (const fire of fires) assert.ok(fire.atMs >= fire.scheduledMs, `exactTimers ${exactTimers}: never early`);
    }
  });

  it('rejects a non-boolean with a ConfigError naming the field', () => {
    assert.throws(
      () => createLocalScheduler({ exactTimers: 'yes' as unknown as boolean }),
      (error: unknown) => error instanceof ConfigError && error.details.field === 'exactTimers',
    );
  });
});
