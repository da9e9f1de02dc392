import { InvalidTriggerError } from '../../errors.js';
import type { Trigger, TriggerSpec } from './trigger.js';

/**
 * How many rounds `andTrigger` spends looking for an instant all its triggers share before it
 * answers `null`. Triggers that never coincide (every 2 s and every 2 s offset by 1 s) would
 * otherwise loop forever.
 */
export const AND_TRIGGER_MAX_ROUNDS = 10_000;

function checkTriggers(triggers: readonly Trigger[], owner: string): void {
  if (!Array.isArray(triggers) || triggers.length === 0) {
    throw new InvalidTriggerError(`${owner}: give at least one trigger to combine.`, { details: { field: 'triggers' } });
  }
  triggers.forEach((trigger: unknown, index) => {
    if (typeof trigger !== 'object' || trigger === null || typeof (trigger as { next?: unknown }).next !== 'function') {
      throw new InvalidTriggerError(`${owner}: triggers[${index}] is not a Trigger (an object with next(), describe(), toSpec()).`, {
        details: { field: `triggers[${index}]` },
      });
    }
  });
}

/**
 * Fires at the instants on which ALL the given triggers fire (APScheduler's AndTrigger).
 *
 * It asks every trigger for its next fire, and while they disagree asks them all again from just
 * before the latest answer. If they have not agreed after {@link AND_TRIGGER_MAX_ROUNDS} rounds, or
 * any trigger has ended, `next()` returns `null` — the combination is treated as finished.
 *
 * @throws InvalidTriggerError for an empty list.
 */
export function andTrigger(triggers: readonly Trigger[]): Trigger {
  checkTriggers(triggers, 'andTrigger');
  const members = [...triggers];
  function next(afterMs: number): number | null {
    let fromMs = afterMs;
    for (let round = 0; round < AND_TRIGGER_MAX_ROUNDS; round += 1) {
      let earliestMs = Infinity;
      let latestMs = -Infinity;
      for (const trigger of members) {
        const fireMs = trigger.next(fromMs);
        if (fireMs === null) return null;
        if (fireMs < earliestMs) earliestMs = fireMs;
        if (fireMs > latestMs) latestMs = fireMs;
      }
      if (earliestMs === latestMs) return earliestMs;
      // Everything before the latest answer is ruled out by the trigger that gave it.
      fromMs = latestMs - 1;
    }
    return null;
  }
  return {
    next,
    describe: () => `all of (${members.map((trigger) => trigger.describe()).join('; ')})`,
    toSpec: (): TriggerSpec => ({ kind: 'and', triggers: members.map((trigger) => trigger.toSpec()) }),
  };
}

/**
 * Fires whenever ANY of the given triggers fires (APScheduler's OrTrigger); an instant on which
 * several fire is one fire. `null` once every trigger has ended.
 *
 * @throws InvalidTriggerError for an empty list.
 */
export function orTrigger(triggers: readonly Trigger[]): Trigger {
  checkTriggers(triggers, 'orTrigger');
  const members = [...triggers];
  function next(afterMs: number): number | null {
    let earliestMs: number | null = null;
    for (const trigger of members) {
      const fireMs = trigger.next(afterMs);
      if (fireMs !== null && (earliestMs === null || fireMs < earliestMs)) earliestMs = fireMs;
    }
    return earliestMs;
  }
  return {
    next,
    describe: () => `any of (${members.map((trigger) => trigger.describe()).join('; ')})`,
    toSpec: (): TriggerSpec => ({ kind: 'or', triggers: members.map((trigger) => trigger.toSpec()) }),
  };
}
