import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, PayloadNotSerializableError, PayloadTooLargeError } from '../../src/errors.js';
import { backoffDelayMs, checkBackoff } from '../../src/queue/backoff.js';
import { checkPayload } from '../../src/queue/payload.js';

describe('backoff', () => {
  it('fixed waits delayMs every time', () => {
    assert.deepEqual([1, 2, 5].map((a) => backoffDelayMs({ type: 'fixed', delayMs: 250 }, a)), [250, 250, 250]);
  });
  it('exponential doubles from delayMs and stops at maxDelayMs', () => {
    const policy = { type: 'exponential', delayMs: 100, maxDelayMs: 1_000 } as const;
    assert.deepEqual([1, 2, 3, 4, 5, 80].map((a) => backoffDelayMs(policy, a)), [100, 200, 400, 800, 1_000, 1_000]);
  });
  it('jitter adds up to jitter × delay, never past maxDelayMs', () => {
    const policy = { type: 'exponential', delayMs: 100, maxDelayMs: 1_000, jitter: 0.5 } as const;
    assert.equal(backoffDelayMs(policy, 1, () => 0), 100);
    assert.equal(backoffDelayMs(policy, 1, () => 0.999999), 150);
    assert.equal(backoffDelayMs(policy, 10, () => 0.999999), 1_000);
  });
  it('rejects bad policies naming the field', () => {
    assert.throws(() => checkBackoff({ type: 'linear' as 'fixed', delayMs: 1 }), ConfigError);
    assert.throws(() => checkBackoff({ type: 'fixed', delayMs: -1 }), /delayMs/);
    assert.throws(() => checkBackoff({ type: 'exponential', delayMs: 10, maxDelayMs: 5 }), /maxDelayMs/);
    assert.throws(() => checkBackoff({ type: 'exponential', delayMs: 10, jitter: 2 }), /jitter/);
  });
});

describe('payload checks', () => {
  const check = (value: unknown, maxBytes = 1_000) => checkPayload(value, { field: 'payload', maxBytes });
  it('accepts JSON data and Dates, and returns the byte size', () => {
    assert.equal(check({ a: [1, 'é', null, true], d: new Date(0) }), Buffer.byteLength(JSON.stringify({ a: [1, 'é', null, true], d: new Date(0) })));
    assert.equal(check(undefined), 4);
  });
  it('names the path of what JSON cannot carry', () => {
    const cases: [unknown, RegExp][] = [
      [{ a: { b: [1, 2n] } }, /payload\.a\.b\[1\] is a BigInt/],
      [{ f: () => 1 }, /payload\.f is a function/],
      [{ s: Symbol('x') }, /payload\.s is a symbol/],
      [{ m: new Map() }, /payload\.m is a Map/],
      [{ set: new Set([1]) }, /payload\.set is a Set/],
      [{ n: Number.POSITIVE_INFINITY }, /payload\.n is Infinity/],
    ];
    for (const [value, message] of cases) assert.throws(() => check(value), (e: unknown) => e instanceof PayloadNotSerializableError && message.test(e.message));
    const cycle: { self?: unknown } = {};
    cycle.self = { back: cycle };
    assert.throws(() => check(cycle), /payload\.self\.back is a reference to one of its own parents/);
  });
  it('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    assert.doesNotThrow(() => check({ a: shared, b: shared }));
  });
  it('refuses payloads over the limit with the sizes in details', () => {
    assert.throws(
      () => check({ blob: 'x'.repeat(2_000) }),
      (e: unknown) => e instanceof PayloadTooLargeError && e.details.maxBytes === 1_000 && (e.details.bytes as number) > 2_000,
    );
  });
});
