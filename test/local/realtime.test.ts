import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLocalScheduler } from '../../src/local/scheduler.js';

describe('local scheduler on the real clock', () => {
  it('fires an every-50 ms job on time with systemClock, and stop() leaves nothing running', async () => {
    const scheduler = createLocalScheduler();
    const fires: { scheduledMs: number; atMs: number }[] = [];
    let resolveTwo!: () => void;
    const two = new Promise<void>((resolve) => {
      resolveTwo = resolve;
    });
    scheduler.every(50, (ctx) => {
      fires.push({ scheduledMs: ctx.scheduledMs, atMs: Date.now() });
      if (fires.length === 2) resolveTwo();
    }, { id: 'fast' });
    await scheduler.start();
    await two;
    const report = await scheduler.stop();
    assert.deepEqual(report, { finishedRuns: 0, abortedRuns: [] });
    assert.equal(fires.length, 2);
    assert.equal((fires[1]?.scheduledMs ?? 0) - (fires[0]?.scheduledMs ?? 0), 50, 'consecutive anchored fires');
    for (const fire of fires) assert.ok(fire.atMs >= fire.scheduledMs, 'never early');
    assert.equal(scheduler.getJob('fast')?.runCount, 2);
  });
});
