import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TypedEmitter } from '../../src/core/events.js';
import { fakeScheduler } from './helpers.js';

describe('TypedEmitter.hasListeners', () => {
  it('is true only while a listener for that event, or an onAny listener, is attached', () => {
    const emitter = new TypedEmitter<{ a: number; b: string }>();
    assert.equal(emitter.hasListeners('a'), false);
    const offA = emitter.on('a', () => undefined);
    assert.equal(emitter.hasListeners('a'), true);
    assert.equal(emitter.hasListeners('b'), false);
    offA();
    assert.equal(emitter.hasListeners('a'), false);
    const offAny = emitter.onAny(() => undefined);
    assert.equal(emitter.hasListeners('a'), true);
    assert.equal(emitter.hasListeners('b'), true);
    offAny();
    assert.equal(emitter.hasListeners('b'), false);
  });
});

describe('per-fire events', () => {
  it('reach a listener attached after start, and onAny listeners, with full payloads', async () => {
    const { clock, scheduler } = fakeScheduler();
    scheduler.every(100, () => 'ok', { id: 'tick' });
    await scheduler.start();
    await clock.advance(100); // a fire nobody listens to: nothing to see, nothing breaks
    const executed: unknown[] = [];
    const any: string[] = [];
    scheduler.events.on('job_executed', (e) => executed.push({ jobId: e.jobId, result: e.result, scheduledMs: e.scheduledMs }));
    scheduler.events.onAny((name) => any.push(String(name)));
    await clock.advance(100);
    await scheduler.stop();
    assert.deepEqual(executed, [{ jobId: 'tick', result: 'ok', scheduledMs: clock.now() - (clock.now() % 100) }]);
    assert.deepEqual(any.slice(0, 2), ['job_submitted', 'job_executed']);
    assert.equal(scheduler.getJob('tick')?.runCount, 2, 'the unobserved fire ran too');
  });
});
