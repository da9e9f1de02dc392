import { InvalidDateError, InvalidTriggerError } from '../../errors.js';

/** Start and end of a trigger's active window, both inclusive, as epoch milliseconds. */
export interface TriggerBounds {
  startMs?: number | undefined;
  endMs?: number | undefined;
}

/**
 * Validates optional `startMs` / `endMs` options.
 *
 * @throws InvalidDateError for a value that is not a finite number; InvalidTriggerError when the
 *   window is empty (`endMs` before `startMs`).
 */
export function checkBounds(bounds: TriggerBounds, owner: string): void {
  for (const field of ['startMs', 'endMs'] as const) {
    const value = bounds[field];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new InvalidDateError(`${owner}: ${field} must be epoch milliseconds (a finite number), got ${String(value)}.`, {
        details: { field, value: String(value) },
      });
    }
  }
  if (bounds.startMs !== undefined && bounds.endMs !== undefined && bounds.endMs < bounds.startMs) {
    throw new InvalidTriggerError(
      `${owner}: endMs (${new Date(bounds.endMs).toISOString()}) is before startMs (${new Date(bounds.startMs).toISOString()}); the trigger could never fire. Move endMs after startMs or drop it.`,
      { details: { field: 'endMs', startMs: bounds.startMs, endMs: bounds.endMs } },
    );
  }
}

/** Copies only the bounds that are set, so specs stay free of `undefined` keys. */
export function boundsSpec(bounds: TriggerBounds): { startMs?: number; endMs?: number } {
  const spec: { startMs?: number; endMs?: number } = {};
  if (bounds.startMs !== undefined) spec.startMs = bounds.startMs;
  if (bounds.endMs !== undefined) spec.endMs = bounds.endMs;
  return spec;
}
