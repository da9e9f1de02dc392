import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { cronTrigger } from '../../../src/core/triggers/index.js';

/** The next `count` fires strictly after `fromIso`, as ISO instants. */
function fires(expression: string, timezone: string, fromIso: string, count: number): string[] {
  const trigger = cronTrigger(expression, { timezone });
  const out: string[] = [];
  let afterMs = Date.parse(fromIso);
  for (let i = 0; i < count; i += 1) {
    const fireMs = trigger.next(afterMs);
    if (fireMs === null) break;
    out.push(new Date(fireMs).toISOString().replace('.000Z', 'Z'));
    afterMs = fireMs;
  }
  return out;
}

/** Fires whose instant falls on one local calendar day. */
function firesOnLocalDay(expression: string, timezone: string, fromIso: string, toIso: string): string[] {
  const out: string[] = [];
  for (const fire of fires(expression, timezone, fromIso, 200)) {
    if (Date.parse(fire) >= Date.parse(toIso)) break;
    out.push(fire);
  }
  return out;
}

describe('DST rule: America/New_York (2025-03-09 02:00→03:00, 2025-11-02 02:00→01:00)', () => {
  it('a daily 02:30 job fires at 03:00 EDT on the spring-forward day, then at 02:30 again', () => {
    assert.deepEqual(fires('30 2 * * *', 'America/New_York', '2025-03-08T12:00:00Z', 3), [
      '2025-03-09T07:00:00Z', // 03:00 EDT: the instant the gap ends
      '2025-03-10T06:30:00Z',
      '2025-03-11T06:30:00Z',
    ]);
    assert.deepEqual(fires('30 2 * * *', 'America/New_York', '2026-03-07T12:00:00Z', 2), ['2026-03-08T07:00:00Z', '2026-03-09T06:30:00Z']);
  });

  it('a daily 01:30 job fires once on the fall-back day, at the first (EDT) 01:30', () => {
    assert.deepEqual(fires('30 1 * * *', 'America/New_York', '2025-11-01T12:00:00Z', 3), [
      '2025-11-02T05:30:00Z', // 01:30 EDT; 01:30 EST (06:30Z) is skipped
      '2025-11-03T06:30:00Z',
      '2025-11-04T06:30:00Z',
    ]);
    // Asked from inside the repeated hour, it does not fire the second 01:30.
    assert.deepEqual(fires('30 1 * * *', 'America/New_York', '2025-11-02T06:10:00Z', 1), ['2025-11-03T06:30:00Z']);
    assert.deepEqual(fires('30 1 * * *', 'America/New_York', '2026-10-31T12:00:00Z', 2), ['2026-11-01T05:30:00Z', '2026-11-02T06:30:00Z']);
  });

  it('an hourly job fires 23 times on the short day and 24 on the long day (once per local hour)', () => {
    const spring = firesOnLocalDay('0 * * * *', 'America/New_York', '2025-03-09T04:59:59Z', '2025-03-10T04:00:00Z');
    assert.equal(spring.length, 23);
    assert.deepEqual(spring.slice(0, 4), ['2025-03-09T05:00:00Z', '2025-03-09T06:00:00Z', '2025-03-09T07:00:00Z', '2025-03-09T08:00:00Z']);
    const fall = firesOnLocalDay('0 * * * *', 'America/New_York', '2025-11-02T03:59:59Z', '2025-11-03T05:00:00Z');
    assert.equal(fall.length, 24);
    // 01:00 EDT (05:00Z) fires; 01:00 EST (06:00Z) does not; 02:00 EST (07:00Z) does.
    assert.deepEqual(fall.slice(0, 4), ['2025-11-02T04:00:00Z', '2025-11-02T05:00:00Z', '2025-11-02T07:00:00Z', '2025-11-02T08:00:00Z']);
  });

  it('an hourly :15 job moves its 02:15 fire to 03:00 and keeps 03:15', () => {
    assert.deepEqual(fires('15 * * * *', 'America/New_York', '2025-03-09T06:00:00Z', 3), [
      '2025-03-09T06:15:00Z', // 01:15 EST
      '2025-03-09T07:00:00Z', // 02:15 does not exist: 03:00 EDT
      '2025-03-09T07:15:00Z', // 03:15 EDT
    ]);
  });

  it('*/30 goes quiet for the repeated hour after falling back, and fires once in the gap', () => {
    assert.deepEqual(fires('*/30 * * * *', 'America/New_York', '2025-11-02T04:40:00Z', 4), [
      '2025-11-02T05:00:00Z', // 01:00 EDT
      '2025-11-02T05:30:00Z', // 01:30 EDT
      '2025-11-02T07:00:00Z', // 02:00 EST — 01:00 and 01:30 EST were already fired as wall times
      '2025-11-02T07:30:00Z',
    ]);
    assert.deepEqual(fires('*/30 * * * *', 'America/New_York', '2025-03-09T06:10:00Z', 3), [
      '2025-03-09T06:30:00Z', // 01:30 EST
      '2025-03-09T07:00:00Z', // 02:00 and 02:30 do not exist; 03:00 EDT fires once
      '2025-03-09T07:30:00Z',
    ]);
  });

  it('a seconds-level fire inside the gap lands on the gap end exactly', () => {
    assert.deepEqual(fires('30 30 2 * * *', 'America/New_York', '2025-03-09T00:00:00Z', 1), ['2025-03-09T07:00:00Z']);
  });
});

describe('DST rule: Europe/London (2025-03-30 01:00→02:00, 2025-10-26 02:00→01:00)', () => {
  it('01:30 in the gap fires at 02:00 BST; 01:30 on the fall-back day fires once (BST)', () => {
    assert.deepEqual(fires('30 1 * * *', 'Europe/London', '2025-03-29T12:00:00Z', 2), ['2025-03-30T01:00:00Z', '2025-03-31T00:30:00Z']);
    assert.deepEqual(fires('30 1 * * *', 'Europe/London', '2025-10-25T12:00:00Z', 2), ['2025-10-26T00:30:00Z', '2025-10-27T01:30:00Z']);
    assert.deepEqual(fires('30 1 * * *', 'Europe/London', '2026-03-28T12:00:00Z', 1), ['2026-03-29T01:00:00Z']);
    assert.deepEqual(fires('30 1 * * *', 'Europe/London', '2026-10-24T12:00:00Z', 2), ['2026-10-25T00:30:00Z', '2026-10-26T01:30:00Z']);
  });

  it('an hourly job fires 23 / 24 times on the transition days', () => {
    assert.equal(firesOnLocalDay('0 * * * *', 'Europe/London', '2025-03-29T23:59:59Z', '2025-03-30T23:00:00Z').length, 23);
    assert.equal(firesOnLocalDay('0 * * * *', 'Europe/London', '2025-10-25T22:59:59Z', '2025-10-27T00:00:00Z').length, 24);
  });
});

describe('DST rule: Australia/Lord_Howe (30-minute shifts)', () => {
  it('2025-10-05 02:00→02:30: a 02:15 job fires at 02:30 (+11), then 02:15 daily', () => {
    assert.deepEqual(fires('15 2 * * *', 'Australia/Lord_Howe', '2025-10-04T10:00:00Z', 3), [
      '2025-10-04T15:30:00Z',
      '2025-10-05T15:15:00Z',
      '2025-10-06T15:15:00Z',
    ]);
  });

  it('2026-04-05 02:00→01:30: a 01:45 job fires once, at the first (+11) 01:45', () => {
    assert.deepEqual(fires('45 1 * * *', 'Australia/Lord_Howe', '2026-04-04T10:00:00Z', 2), ['2026-04-04T14:45:00Z', '2026-04-05T15:15:00Z']);
  });

  it('*/30 skips the repeated half hour after falling back', () => {
    assert.deepEqual(fires('*/30 * * * *', 'Australia/Lord_Howe', '2026-04-04T14:10:00Z', 3), [
      '2026-04-04T14:30:00Z', // 01:30 +11
      '2026-04-04T15:30:00Z', // 02:00 +10:30; 01:30 +10:30 (15:00Z) is the same wall time again
      '2026-04-04T16:00:00Z',
    ]);
  });
});

describe('DST rule: Asia/Kolkata (no DST)', () => {
  it('a daily 02:30 job is exactly 24 hours apart all year', () => {
    const list = fires('30 2 * * *', 'Asia/Kolkata', '2025-01-01T00:00:00Z', 366).map((iso) => Date.parse(iso));
    assert.equal(list.length, 366);
    assert.equal(new Date(list[0] ?? 0).toISOString(), '2025-01-01T21:00:00.000Z');
    for (let i = 1; i < list.length; i += 1) assert.equal((list[i] ?? 0) - (list[i - 1] ?? 0), 86_400_000);
  });
});
