import { InvalidTriggerError } from '../../errors.js';
import { andTrigger, orTrigger } from './combine.js';
import { cronTrigger } from './cron.js';
import { dateTrigger } from './date.js';
import { intervalTrigger } from './interval.js';
import { rruleTrigger } from './rrule.js';
import type { Trigger, TriggerSpec } from './trigger.js';

const KINDS = ['cron', 'interval', 'date', 'rrule', 'and', 'or'] as const;

function optionalNumber(spec: Record<string, unknown>, key: string): number | undefined {
  const value = spec[key];
  return value === undefined || value === null ? undefined : (value as number);
}

/**
 * Rebuilds a trigger from its stored specification; `triggerFromSpec(t.toSpec())` fires exactly as
 * `t` does. Specs come back from databases and HTTP bodies, so the shape is checked here.
 *
 * @throws InvalidTriggerError for an unknown `kind` or a missing member; the trigger factories'
 *   own errors (InvalidCronError, InvalidDurationError…) for bad values.
 */
export function triggerFromSpec(spec: TriggerSpec): Trigger {
  return fromSpecAt(spec, 'spec');
}

function fromSpecAt(spec: TriggerSpec, path: string): Trigger {
  if (typeof spec !== 'object' || spec === null) {
    throw new InvalidTriggerError(`${path}: a trigger spec must be an object with a 'kind', got ${String(spec)}.`, {
      details: { field: path },
    });
  }
  const raw = spec as unknown as Record<string, unknown>;
  switch (spec.kind) {
    case 'cron':
      if (typeof raw.expression !== 'string') {
        throw new InvalidTriggerError(`${path}.expression: a cron spec needs the expression as a string.`, {
          details: { field: `${path}.expression` },
        });
      }
      return cronTrigger(raw.expression, {
        timezone: raw.timezone === undefined || raw.timezone === null ? undefined : (raw.timezone as string),
        startMs: optionalNumber(raw, 'startMs'),
        endMs: optionalNumber(raw, 'endMs'),
      });
    case 'interval':
      return intervalTrigger({
        everyMs: raw.everyMs as number,
        startMs: raw.startMs as number,
        endMs: optionalNumber(raw, 'endMs'),
      });
    case 'date':
      return dateTrigger(raw.atMs as number);
    case 'rrule':
      if (typeof raw.rule !== 'string') {
        throw new InvalidTriggerError(`${path}.rule: an rrule spec needs the rule as a string.`, { details: { field: `${path}.rule` } });
      }
      return rruleTrigger(raw.rule, {
        timezone: raw.timezone === undefined || raw.timezone === null ? undefined : (raw.timezone as string),
        startMs: optionalNumber(raw, 'startMs'),
        endMs: optionalNumber(raw, 'endMs'),
      });
    case 'and':
    case 'or': {
      if (!Array.isArray(raw.triggers)) {
        throw new InvalidTriggerError(`${path}.triggers: an '${spec.kind}' spec needs a list of trigger specs.`, {
          details: { field: `${path}.triggers` },
        });
      }
      const members = (raw.triggers as TriggerSpec[]).map((member, index) => fromSpecAt(member, `${path}.triggers[${index}]`));
      return spec.kind === 'and' ? andTrigger(members) : orTrigger(members);
    }
    default:
      throw new InvalidTriggerError(
        `${path}.kind: unknown trigger kind ${JSON.stringify(raw.kind)}; expected one of ${KINDS.join(', ')}.`,
        { details: { field: `${path}.kind`, value: String(raw.kind) } },
      );
  }
}
