import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { newJobId } from '../../src/queue/job-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('generated job ids', () => {
  it('are RFC 9562 version-7 UUIDs, unique across the random pool refills', () => {
    // 10,000 ids draw 160,000 random bytes: the 4 KiB pool is refilled about 40 times.
    const ids = Array.from({ length: 10_000 }, () => newJobId());
    assert.ok(ids.every((id) => UUID_V7.test(id)), `not a v7 UUID: ${ids.find((id) => !UUID_V7.test(id))}`);
    assert.equal(new Set(ids).size, ids.length);
  });

  it('sort by creation time across milliseconds, and carry the creation time', async () => {
    const before = Date.now();
    const first = newJobId();
    await new Promise((resolve) => setTimeout(resolve, 3));
    const second = newJobId();
    assert.ok(first < second, `${first} sorts before ${second}`);
    const msOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    assert.ok(msOf(first) >= before && msOf(second) <= Date.now());
  });
});
