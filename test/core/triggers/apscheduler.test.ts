import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { apschedulerCronExpression, triggerFromApschedulerFields } from '../../../src/core/triggers/index.js';
import {
  InvalidDateError,
  InvalidDurationError,
  InvalidTimezoneError,
  InvalidTriggerError,
  type KairosError,
} from '../../../src/errors.js';

const NOW_MS = Date.parse('2026-01-05T10:00:00Z'); // a Monday

function chain(kind: 'cron' | 'interval' | 'date', fields: Record<string, unknown>, fromIso: string, count: number): string[] {
  const trigger = triggerFromApschedulerFields(kind, fields, NOW_MS);
  const out: string[] = [];
  let afterMs = Date.parse(fromIso);
  for (let i = 0; i < count; i += 1) {
    const fireMs = trigger.next(afterMs);
    if (fireMs === null) break;
    out.push(new Date(fireMs).toISOString());
    afterMs = fireMs;
  }
  return out;
}

function assertError(run: () => unknown, type: new (...args: never[]) => KairosError, field: string): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(error instanceof type, `expected ${type.name}, got ${String(error)}`);
    assert.equal(error.details.field, field);
    return true;
  });
}

describe('APScheduler 3.x cron fields → crontab', () => {
  const table: Array<[Record<string, unknown>, string, string]> = [
    [{ hour: '*' }, '0 0 * * * *', 'every hour on the hour (the seed cache cleanup)'],
    [{ hour: '2', minute: '0' }, '0 0 2 * * *', '02:00:00 daily'],
    [{ hour: 2 }, '0 0 2 * * *', 'integers work'],
    [{ minute: '*/5' }, '0 */5 * * * *', 'more significant fields stay *'],
    [{ second: '*/10' }, '*/10 * * * * *', 'every 10 seconds'],
    [{ day_of_week: 'mon-fri', hour: 9, minute: 30 }, '0 30 9 * * 1-5', 'names'],
    [{ day_of_week: '0-4', hour: 9 }, '0 0 9 * * 1-5', 'numeric 0-4 is Monday–Friday'],
    [{ day_of_week: 0 }, '0 0 0 * * 1', '0 is Monday'],
    [{ day_of_week: 6 }, '0 0 0 * * 0', '6 is Sunday'],
    [{ day_of_week: '5-6' }, '0 0 0 * * 6-7', 'Saturday–Sunday'],
    [{ day_of_week: 'sat,sun' }, '0 0 0 * * 6,0', 'name list'],
    [{ day_of_week: '*/2' }, '0 0 0 * * 1-7/2', 'Mon, Wed, Fri, Sun as in APScheduler'],
    [{ day_of_week: 'sun', hour: 3 }, '0 0 3 * * 0', 'weekly security scan'],
    [{ month: '6-8,11-12', day: '3rd fri', hour: '0-3' }, '0 0 0-3 * 6-8,11-12 5#3', 'APScheduler docs example'],
    [{ day: 'last' }, '0 0 0 L * *', 'last day of month'],
    [{ day: 'last fri' }, '0 0 0 * * 5#L', 'last Friday'],
    [{ day: '1,15,last' }, '0 0 0 1,15,L * *', 'list with last'],
    [{ day: '15,2nd fri' }, '0 0 0 15 * 5#2', 'union of a day and a position'],
    [{ day: '*/10' }, '0 0 0 1-31/10 * *', 'day step written as a range'],
    [{ day: 1, day_of_week: 'mon' }, '0 0 0 1 * +1', 'day AND day_of_week, as APScheduler'],
    [{ month: 'jan-mar', day: 1 }, '0 0 0 1 1-3 *', 'month names; day defaults below'],
    [{ month: 6, minute: 5 }, '0 5 * * 6 *', 'fields between given ones are *'],
    [{ year: 2027 }, '0 0 0 1 1 * 2027', 'year only: 1 Jan 2027 00:00:00'],
    [{ minute: '5/15' }, '0 5-59/15 * * * *', "APScheduler's a/n form"],
    [{}, '* * * * * *', 'no field at all: every second, as APScheduler'],
  ];
  for (const [fields, expected, why] of table) {
    it(`${JSON.stringify(fields)} → ${expected} (${why})`, () => {
      assert.equal(apschedulerCronExpression(fields), expected);
    });
  }

  it('{hour: "*"} fires every hour at :00:00, and {hour: 2, minute: 0} daily at 02:00:00', () => {
    assert.deepEqual(chain('cron', { hour: '*' }, '2026-01-05T10:20:00Z', 3), [
      '2026-01-05T11:00:00.000Z',
      '2026-01-05T12:00:00.000Z',
      '2026-01-05T13:00:00.000Z',
    ]);
    assert.deepEqual(chain('cron', { hour: '2', minute: '0' }, '2026-01-05T10:20:00Z', 2), ['2026-01-06T02:00:00.000Z', '2026-01-07T02:00:00.000Z']);
  });

  it('day_of_week 0 = Monday: {day_of_week: 0, hour: 3} fires on Mondays', () => {
    for (const iso of chain('cron', { day_of_week: 0, hour: 3 }, '2026-01-01T00:00:00Z', 4)) {
      assert.equal(new Date(iso).getUTCDay(), 1, iso);
    }
    for (const iso of chain('cron', { day_of_week: 'mon-fri', hour: 3 }, '2026-01-01T00:00:00Z', 10)) {
      assert.ok([1, 2, 3, 4, 5].includes(new Date(iso).getUTCDay()), iso);
    }
  });

  it('reads the time zone, start_date and end_date', () => {
    assert.deepEqual(
      chain('cron', { hour: 2, minute: 0, timezone: 'Europe/London', start_date: '2026-07-01', end_date: '2026-07-02 02:00:00' }, '2026-01-01T00:00:00Z', 5),
      ['2026-07-01T01:00:00.000Z', '2026-07-02T01:00:00.000Z'],
    );
  });

  it('rejects what cron cannot say or APScheduler would refuse, naming the field', () => {
    assertError(() => triggerFromApschedulerFields('cron', { week: 3 }, NOW_MS), InvalidTriggerError, 'week');
    assertError(() => triggerFromApschedulerFields('cron', { day: '2nd fri', day_of_week: 'mon' }, NOW_MS), InvalidTriggerError, 'day');
    assertError(() => triggerFromApschedulerFields('cron', { hour: 24 }, NOW_MS), InvalidTriggerError, 'hour');
    assertError(() => triggerFromApschedulerFields('cron', { minute: '10-5' }, NOW_MS), InvalidTriggerError, 'minute');
    assertError(() => triggerFromApschedulerFields('cron', { day_of_week: 'sun-mon' }, NOW_MS), InvalidTriggerError, 'day_of_week');
    assertError(() => triggerFromApschedulerFields('cron', { day_of_week: 7 }, NOW_MS), InvalidTriggerError, 'day_of_week');
    assertError(() => triggerFromApschedulerFields('cron', { day: '6th fri' }, NOW_MS), InvalidTriggerError, 'day');
    assertError(() => triggerFromApschedulerFields('cron', { month: 'foo' }, NOW_MS), InvalidTriggerError, 'month');
    assertError(() => triggerFromApschedulerFields('cron', { second: '*/0' }, NOW_MS), InvalidTriggerError, 'second');
    assertError(() => triggerFromApschedulerFields('cron', { hour: 1.5 }, NOW_MS), InvalidTriggerError, 'hour');
    assertError(() => triggerFromApschedulerFields('cron', { hourz: 1 }, NOW_MS), InvalidTriggerError, 'hourz');
    assertError(() => triggerFromApschedulerFields('cron', { hour: 1, jitter: 5 }, NOW_MS), InvalidTriggerError, 'jitter');
    assertError(() => triggerFromApschedulerFields('cron', { hour: 1, timezone: 'Mars/Olympus' }, NOW_MS), InvalidTimezoneError, 'timezone');
    assertError(() => triggerFromApschedulerFields('cron', { hour: 1, start_date: 'yesterday' }, NOW_MS), InvalidDateError, 'start_date');
  });

  it('lists the allowed fields when one is unknown', () => {
    assert.throws(() => triggerFromApschedulerFields('interval', { secs: 5 }, NOW_MS), /unknown field 'secs'. Allowed: weeks, days, hours, minutes, seconds, milliseconds, start_date, end_date, timezone/);
  });
});

describe('APScheduler 3.x interval fields', () => {
  it('without start_date the first fire is one interval after now', () => {
    assert.deepEqual(chain('interval', { seconds: 30 }, '2026-01-05T10:00:00Z', 3), [
      '2026-01-05T10:00:30.000Z',
      '2026-01-05T10:01:00.000Z',
      '2026-01-05T10:01:30.000Z',
    ]);
  });

  it('sums the units and anchors on start_date (the first fire), read in the zone', () => {
    const trigger = triggerFromApschedulerFields('interval', { hours: 1, minutes: 30, milliseconds: 5, start_date: '2026-01-05 12:00', timezone: 'Asia/Kolkata' }, NOW_MS);
    assert.deepEqual(trigger.toSpec(), { kind: 'interval', everyMs: 5_400_005, startMs: Date.parse('2026-01-05T06:30:00Z') });
    assert.equal(trigger.next(0), Date.parse('2026-01-05T06:30:00Z'));
  });

  it('stops after end_date (inclusive) and accepts weeks / days for the seed maintenance jobs', () => {
    const startMs = Date.parse('2026-01-01T00:00:00Z');
    const trigger = triggerFromApschedulerFields('interval', { days: 90, start_date: startMs, end_date: new Date('2026-07-01T00:00:00Z') }, NOW_MS);
    assert.equal(trigger.next(startMs), startMs + 90 * 86_400_000);
    assert.equal(trigger.next(startMs + 90 * 86_400_000), startMs + 180 * 86_400_000);
    assert.equal(trigger.next(startMs + 180 * 86_400_000), null);
  });

  it('rejects a zero or negative interval and non-numbers', () => {
    assertError(() => triggerFromApschedulerFields('interval', {}, NOW_MS), InvalidDurationError, 'seconds');
    assertError(() => triggerFromApschedulerFields('interval', { minutes: -1 }, NOW_MS), InvalidDurationError, 'minutes');
    assertError(() => triggerFromApschedulerFields('interval', { seconds: '30' }, NOW_MS), InvalidDurationError, 'seconds');
  });
});

describe('APScheduler 3.x date fields', () => {
  it('fires once at run_date, given as ISO text, Date or epoch ms', () => {
    assert.deepEqual(chain('date', { run_date: '2026-02-01T09:00:00+01:00' }, '2026-01-01T00:00:00Z', 3), ['2026-02-01T08:00:00.000Z']);
    assert.deepEqual(chain('date', { run_date: new Date('2026-02-01T09:00:00Z') }, '2026-01-01T00:00:00Z', 3), ['2026-02-01T09:00:00.000Z']);
    assert.deepEqual(chain('date', { run_date: '2026-02-01 09:00:00', timezone: 'America/New_York' }, '2026-01-01T00:00:00Z', 3), ['2026-02-01T14:00:00.000Z']);
  });

  it('defaults run_date to now, and rejects nonsense', () => {
    assert.equal(triggerFromApschedulerFields('date', {}, NOW_MS).next(NOW_MS - 1), NOW_MS);
    assertError(() => triggerFromApschedulerFields('date', { run_date: '2026-02-30' }, NOW_MS), InvalidDateError, 'run_date');
    assertError(() => triggerFromApschedulerFields('date', { run_date: 'soon' }, NOW_MS), InvalidDateError, 'run_date');
    assertError(() => triggerFromApschedulerFields('date', { run_date: NOW_MS, hour: 1 }, NOW_MS), InvalidTriggerError, 'hour');
    assertError(() => triggerFromApschedulerFields('weekly' as 'date', {}, NOW_MS), InvalidTriggerError, 'trigger');
  });
});
