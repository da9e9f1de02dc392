import { InvalidDateError } from '../../errors.js';
import type { Trigger, TriggerSpec } from './trigger.js';

/**
 * A trigger that fires once, at `atMs`. `next(afterMs)` is `atMs` while `afterMs < atMs`, then `null`.
 *
 * @throws InvalidDateError when `atMs` is not a finite number.
 */
export function dateTrigger(atMs: number): Trigger {
  if (typeof atMs !== 'number' || !Number.isFinite(atMs)) {
    throw new InvalidDateError(`dateTrigger: atMs must be epoch milliseconds (a finite number), got ${String(atMs)}.`, {
      details: { field: 'atMs', value: String(atMs) },
    });
  }
  return {
    next: (afterMs) => (afterMs < atMs ? atMs : null),
    describe: () => `once at ${new Date(atMs).toISOString()}`,
    toSpec: (): TriggerSpec => ({ kind: 'date', atMs }),
  };
}
