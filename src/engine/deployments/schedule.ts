import { createHash } from 'node:crypto';
import { cronTrigger } from '../../core/triggers/cron.js';
import { intervalTrigger } from '../../core/triggers/interval.js';
import type { Trigger } from '../../core/triggers/trigger.js';
import { rruleTriggerFromSpec } from '../../core/triggers/rrule.js';
import type { Deployment, ScheduleSpec } from './types.js';

/** The trigger of a stored schedule, bounded by the deployment's startMs / endMs. */
export function scheduleTrigger(
  schedule: ScheduleSpec,
  bounds: { startMs: number | null; endMs: number | null } = { startMs: null, endMs: null },
): Trigger {
  const startMs = bounds.startMs ?? undefined;
  const endMs = bounds.endMs ?? undefined;
  switch (schedule.kind) {
    case 'cron':
      return cronTrigger(schedule.expression, { timezone: schedule.timezone, startMs, endMs });
    case 'interval': {
      const inner = intervalTrigger({ everyMs: schedule.everyMs, startMs: schedule.anchorMs, endMs });
      return startMs === undefined ? inner : lowerBound(inner, startMs);
    }
    case 'rrule':
      return lowerBound(rruleTriggerFromSpec({ ...schedule, endMs: endMs ?? schedule.endMs }), startMs);
  }
}

function lowerBound(inner: Trigger, startMs: number | undefined): Trigger {
  if (startMs === undefined) return inner;
  return {
    next: (afterMs) => inner.next(Math.max(afterMs, startMs - 1)),
    describe: () => inner.describe(),
    toSpec: () => inner.toSpec(),
  };
}

/** A one-line description of a schedule for the CLI and UI. */
export function describeSchedule(schedule: ScheduleSpec | null): string {
  if (schedule === null) return '—';
  switch (schedule.kind) {
    case 'cron':
      return `cron ${schedule.expression} ${schedule.timezone}`;
    case 'interval':
      return `every ${schedule.everyMs}ms`;
    case 'rrule':
      return `rrule ${schedule.rule.replace(/\s+/g, ' ')} ${schedule.timezone ?? 'UTC'}`;
  }
}

/**
 * The jitter of one fire: a delay in [0, jitterMs) derived from the deployment id and the fire time.
 * Deterministic rather than random so that every scheduler (and a restarted one) agrees on when a
 * fire is due without storing anything; it is still spread uniformly across deployments and fires.
 * Never early, and never at or past the next fire.
 */
export function jitterFor(deployment: Pick<Deployment, 'id' | 'jitterMs'>, fireMs: number, nextFireMs: number | null): number {
  if (deployment.jitterMs <= 0) return 0;
  const limit = nextFireMs === null ? deployment.jitterMs : Math.min(deployment.jitterMs, nextFireMs - fireMs);
  if (limit <= 1) return 0;
  const digest = createHash('sha1').update(`${deployment.id}:${fireMs}`).digest();
  return digest.readUInt32BE(0) % Math.floor(limit);
}

/** Scheduled fires in [fromMs, toMs], in order, at most `limit` of them. */
export function firesBetween(trigger: Trigger, fromMs: number, toMs: number, limit = Number.POSITIVE_INFINITY): number[] {
  const fires: number[] = [];
  for (let fire = trigger.next(fromMs - 1); fire !== null && fire <= toMs && fires.length < limit; fire = trigger.next(fire)) {
    fires.push(fire);
  }
  return fires;
}
