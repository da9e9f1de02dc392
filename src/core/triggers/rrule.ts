import rrulePackage from 'rrule';
import { InvalidTriggerError } from '../../errors.js';
import type { Trigger, TriggerSpec } from './trigger.js';
import { createZone } from './zone.js';

const { RRule } = rrulePackage;
type RRuleInstance = InstanceType<typeof RRule>;

/** The stored form of an RRULE schedule (the `rrule` member of TriggerSpec). */
export type RRuleSpec = Extract<TriggerSpec, { kind: 'rrule' }>;

export interface RRuleTriggerOptions {
  timezone?: string;
  startMs?: number;
  endMs?: number;
}

/** How many candidates `next` examines before deciding a rule cannot fire any more. */
const MAX_CANDIDATES = 10_000;

/**
 * A Trigger over an iCalendar RRULE (the `rrule` package), evaluated in wall-clock time of the zone.
 *
 * Without DTSTART the rule is anchored at local midnight of `startMs`'s day (or 1970-01-01), so the
 * fields it does not give (BYHOUR, BYMINUTE, BYSECOND) are 0: `FREQ=DAILY;BYHOUR=2;BYMINUTE=30` fires
 * at 02:30:00. DST: a time inside a spring-forward gap fires when the gap ends (02:30 → 03:00); a
 * time that occurs twice fires once, at its first occurrence.
 *
 * @throws InvalidTriggerError for a rule the rrule package cannot parse or one without FREQ.
 * @throws InvalidTimezoneError for an unknown zone.
 */
export function rruleTrigger(rule: string, options: RRuleTriggerOptions = {}): Trigger {
  let parsed: ReturnType<typeof RRule.parseString>;
  try {
    parsed = RRule.parseString(rule.trim());
  } catch (cause) {
    throw invalid(rule, cause instanceof Error ? cause.message : String(cause), cause);
  }
  if (parsed.freq === undefined || parsed.freq === null) throw invalid(rule, 'it has no FREQ');
  const timezone = options.timezone ?? parsed.tzid ?? 'UTC';
  const zone = createZone(timezone, 'schedule.timezone');
  const { startMs, endMs } = options;
  const anchor = parsed.dtstart ?? new Date(startOfWallDay(zone.wallOf(startMs ?? 0)));
  let recurrence: RRuleInstance;
  try {
    recurrence = new RRule({ ...parsed, tzid: null, dtstart: anchor });
  } catch (cause) {
    throw invalid(rule, cause instanceof Error ? cause.message : String(cause), cause);
  }
  const spec = { kind: 'rrule', rule, timezone, startMs, endMs } satisfies RRuleSpec;

  return {
    next(afterMs: number): number | null {
      const from = startMs !== undefined && afterMs < startMs ? startMs - 1 : afterMs;
      // rrule walks wall values (local time written as UTC); zone.ts decides which instant each means.
      let wallMs = zone.wallOf(from);
      for (let i = 0; i < MAX_CANDIDATES; i += 1) {
        const candidate = recurrence.after(new Date(wallMs), false);
        if (candidate === null) return null;
        const resolved = zone.resolveWall(candidate.getTime());
        if (endMs !== undefined && resolved.instantMs > endMs) return null;
        if (resolved.instantMs > from) return resolved.instantMs;
        // A local time repeated by a fall-back already fired at its first occurrence: skip the repeat.
        wallMs = resolved.kind === 'repeated' ? Math.max(candidate.getTime(), resolved.repeatEndWallMs - 1) : candidate.getTime();
      }
      return null;
    },
    describe: () => `rrule ${rule.replace(/\s+/g, ' ')} ${timezone}`,
    toSpec: () => spec,
  };
}

export function rruleTriggerFromSpec(spec: RRuleSpec): Trigger {
  return rruleTrigger(spec.rule, { timezone: spec.timezone, startMs: spec.startMs, endMs: spec.endMs });
}

function startOfWallDay(wallMs: number): number {
  return wallMs - (((wallMs % 86_400_000) + 86_400_000) % 86_400_000);
}

function invalid(rule: string, reason: string, cause?: unknown): InvalidTriggerError {
  return new InvalidTriggerError(
    `schedule.rrule: '${rule}' is not a usable RRULE (${reason}). Example: 'FREQ=WEEKLY;BYDAY=MO;BYHOUR=6;BYMINUTE=0'.`,
    { cause, details: { field: 'schedule.rrule', value: rule } },
  );
}
