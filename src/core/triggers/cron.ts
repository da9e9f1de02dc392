import { Cron } from 'croner';

import { InvalidCronError, InvalidDateError } from '../../errors.js';
import { boundsSpec, checkBounds } from './bounds.js';
import type { Trigger, TriggerSpec } from './trigger.js';
import { createZone, type Zone } from './zone.js';

/** Options of {@link cronTrigger}. */
export interface CronTriggerOptions {
  /** IANA time zone the expression is read in. Default `'UTC'`. */
  timezone?: string | undefined;
  /** No fire before this instant (inclusive), epoch ms. Default: no lower bound. */
  startMs?: number | undefined;
  /** No fire after this instant (inclusive, as APScheduler's `end_date`), epoch ms. Default: no end. */
  endMs?: number | undefined;
}

const MACROS: Readonly<Record<string, string>> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const EXAMPLES =
  "Expected 5 fields 'minute hour day-of-month month day-of-week' (optionally a leading seconds field and a trailing year), " +
  "e.g. '0 2 * * *' (02:00 daily), '*/30 * * * * *' (every 30 seconds), '0 9 * * MON-FRI', '0 0 L * *' or a macro such as '@hourly'.";

/** Safety net for the candidate walk; the DST skip below keeps real walks to a handful of steps. */
const MAX_CANDIDATES = 1_000;

function invalidCron(expression: string, reason: string, cause?: unknown): InvalidCronError {
  return new InvalidCronError(`cron expression '${expression}' is invalid: ${reason}. ${EXAMPLES}`, {
    ...(cause === undefined ? {} : { cause }),
    details: { field: 'expression', expression, reason },
  });
}

function startsWild(field: string): boolean {
  return field.startsWith('*') || field.startsWith('?');
}

/**
 * Rewrites a crontab expression into the croner pattern with the same meaning.
 *
 * Day-of-month and day-of-week follow Vixie cron: when both are restricted a day matching EITHER
 * fires; when either field starts with `*` (as in `*∕2`) a day must match BOTH. croner ORs whenever a
 * field is anything but a bare `*`, so an AND case gets croner's explicit `+` prefix.
 */
export function toCronerPattern(expression: string): string {
  const text = expression.trim().replace(/\s+/g, ' ');
  if (text === '') throw invalidCron(expression, 'it is empty');
  const lower = text.toLowerCase();
  if (lower.startsWith('@')) {
    const macro = MACROS[lower];
    if (macro === undefined) {
      throw invalidCron(expression, `unknown macro '${text}' (known: ${Object.keys(MACROS).join(', ')}; @reboot has no meaning for a scheduler)`);
    }
    return macro;
  }
  const fields = text.split(' ');
  if (fields.length < 5 || fields.length > 7) {
    throw invalidCron(expression, `it has ${fields.length} fields`);
  }
  const domIndex = fields.length === 5 ? 2 : 3;
  const dowIndex = domIndex + 2;
  const dom = fields[domIndex] ?? '*';
  const dow = fields[dowIndex] ?? '*';
  const domWild = startsWild(dom);
  const dowWild = !dow.startsWith('+') && startsWild(dow);
  // croner already ANDs when either field is bare (it then reads only the other) or dow has `+`.
  const cronerAnds = dom === '*' || dom === '?' || dow === '*' || dow === '?' || dow.startsWith('+');
  if ((domWild || dowWild) && !cronerAnds) fields[dowIndex] = `+${dow}`;
  return fields.join(' ');
}

/**
 * A trigger on a cron expression, read in an IANA time zone.
 *
 * Syntax (parsing and calendar matching by croner): 5 fields `minute hour day-of-month month
 * day-of-week`, or 6 with a leading `second`, or 7 with a trailing `year`; `*`, `a-b`, `*∕n`,
 * `a-b/n`, lists; month names JAN–DEC; day-of-week 0–7 with **0 and 7 = Sunday** (crontab), names
 * SUN–SAT; `L` (last day of month, or `5L` / `FRI#L` last Friday), `W` (nearest weekday, `15W`), `#`
 * (`MON#2` second Monday); macros `@yearly @annually @monthly @weekly @daily @midnight @hourly`.
 * Day-of-month and day-of-week both restricted fire on either (Vixie cron), see {@link toCronerPattern}.
 *
 * DST rule (the same for every expression): a matching local time that does not exist fires once at
 * the instant the gap ends (02:30 on a spring-forward day fires at 03:00 new time); a matching local
 * time that occurs twice fires once, at its first occurrence. So `*∕30 * * * *` does not fire during
 * the repeated hour after clocks fall back — every wall-clock time fires at most once per day.
 *
 * @throws InvalidCronError for a malformed expression or one that can never fire (`0 0 30 2 *`).
 * @throws InvalidTimezoneError for an unknown zone.
 * @throws InvalidDateError / InvalidTriggerError for bad `startMs` / `endMs`.
 */
export function cronTrigger(expression: string, options: CronTriggerOptions = {}): Trigger {
  if (typeof expression !== 'string') {
    throw invalidCron(String(expression), `expected a string, got ${typeof expression}`);
  }
  const zone: Zone = createZone(options.timezone ?? 'UTC');
  checkBounds(options, 'cronTrigger');
  const pattern = toCronerPattern(expression);
  let cron: Cron;
  try {
    // The pattern is walked on wall values (local time written as UTC), so croner runs at offset 0
    // and never applies its own DST handling; zone.ts applies ours.
    cron = new Cron(pattern, { paused: true, utcOffset: 0, domAndDow: false, mode: 'auto' });
  } catch (cause) {
    throw invalidCron(expression, cause instanceof Error ? cause.message.replace(/^CronPattern: /, '') : String(cause), cause);
  }
  if (cron.nextRun(new Date(0)) === null) {
    throw invalidCron(expression, 'it matches no date at all (for example the 30th of February)');
  }
  const { startMs, endMs } = options;

  function next(afterMs: number): number | null {
    if (typeof afterMs !== 'number' || Number.isNaN(afterMs)) {
      throw new InvalidDateError(`cron next(): afterMs must be epoch milliseconds, got ${String(afterMs)}.`, {
        details: { field: 'afterMs', value: String(afterMs) },
      });
    }
    const fromMs = startMs === undefined ? afterMs : Math.max(afterMs, startMs - 1);
    if (endMs !== undefined && fromMs >= endMs) return null;
    let wallMs = zone.wallOf(fromMs);
    for (let step = 0; step < MAX_CANDIDATES; step += 1) {
      const candidate = cron.nextRun(new Date(wallMs));
      if (candidate === null) return null;
      const candidateWallMs = candidate.getTime();
      const resolved = zone.resolveWall(candidateWallMs);
      if (resolved.instantMs > fromMs) {
        return endMs !== undefined && resolved.instantMs > endMs ? null : resolved.instantMs;
      }
      // Only a repeated local time can resolve before `fromMs` (we are in its second pass and it
      // already fired in the first): jump past the rest of the repeated stretch in one step.
      wallMs = resolved.kind === 'repeated' ? Math.max(candidateWallMs, resolved.repeatEndWallMs - 1) : candidateWallMs;
    }
    return null;
  }

  const timezone = options.timezone;
  return {
    next,
    describe: () => `cron ${expression.trim()} ${zone.name}`,
    toSpec: (): TriggerSpec => ({
      kind: 'cron',
      expression,
      ...(timezone === undefined ? {} : { timezone }),
      ...boundsSpec(options),
    }),
  };
}
