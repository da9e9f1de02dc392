/**
 * A trigger answers one question: given an instant, when is the next fire strictly after it?
 *
 * Triggers are pure: no timers, no clock, no I/O. The local lane, deployments and the HA scheduler
 * all build their timing on this one interface. All instants are epoch milliseconds (UTC).
 */
export interface Trigger {
  /** The first fire time strictly after `afterMs`, or `null` when the trigger will never fire again. */
  next(afterMs: number): number | null;
  /** A short human-readable description (`cron 0 2 * * * Europe/London`, `every 30s`). */
  describe(): string;
  /** A JSON-serialisable specification from which `triggerFromSpec` rebuilds an equal trigger. */
  toSpec(): TriggerSpec;
}

/** The serialisable form of every trigger, stored with persistent schedules. */
export type TriggerSpec =
  | {
      kind: 'cron';
      expression: string;
      timezone?: string;
      startMs?: number;
      endMs?: number;
    }
  | {
      kind: 'interval';
      everyMs: number;
      /** The anchor: fires are at `startMs + k * everyMs`, so the schedule never drifts. */
      startMs: number;
      endMs?: number;
    }
  | { kind: 'date'; atMs: number }
  | {
      kind: 'rrule';
      /** RFC 5545 text: `FREQ=WEEKLY;BYDAY=MO;BYHOUR=6` or `DTSTART;TZID=…:20250101T060000\nRRULE:FREQ=…`. */
      rule: string;
      /** IANA zone the rule's wall-clock times are in. Default: the rule's TZID, else 'UTC'. */
      timezone?: string;
      /** No fire before this instant. Also the anchor when the rule has no DTSTART. */
      startMs?: number;
      /** No fire after this instant. */
      endMs?: number;
    }
  | { kind: 'and'; triggers: TriggerSpec[] }
  | { kind: 'or'; triggers: TriggerSpec[] };
