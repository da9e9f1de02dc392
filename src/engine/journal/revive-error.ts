import * as errorModule from '../../errors.js';
import { KairosError, type KairosErrorOptions } from '../../errors.js';
import type { RecordedError } from '../types.js';

type KairosErrorClass = new (message: string, options?: KairosErrorOptions) => KairosError;

let classesByCode: Map<string, KairosErrorClass> | undefined;

/**
 * The KairosError subclass for each error code, discovered from src/errors.ts rather than listed by
 * hand, so a code another lane appends is revived as its own class without touching this file. Each
 * subclass is constructed once (they take `(message, options)` and have no side effects) to learn
 * its code. Built lazily: nothing runs on import.
 */
function errorClasses(): Map<string, KairosErrorClass> {
  if (classesByCode !== undefined) return classesByCode;
  const found = new Map<string, KairosErrorClass>();
  for (const value of Object.values(errorModule)) {
    if (typeof value !== 'function' || value === KairosError || !(value.prototype instanceof KairosError)) continue;
    try {
      const probe = new (value as KairosErrorClass)('probe');
      // The most general class wins when a code is shared by a class and its subclass.
      if (!found.has(probe.code) || (found.get(probe.code)?.prototype instanceof value)) found.set(probe.code, value as KairosErrorClass);
    } catch {
      // A class with another constructor shape cannot be revived by code; it falls back to KairosError.
    }
  }
  classesByCode = found;
  return found;
}

function isErrorCode(code: string): code is errorModule.ErrorCode {
  return (Object.values(errorModule.ErrorCode) as string[]).includes(code);
}

/**
 * Rebuilds a recorded error so that a replayed step throws what the first execution threw: the same
 * `name`, `message`, `stack` and, for a KairosError, the same subclass (so `instanceof TimeoutError`
 * holds after replay), `code` and `details`. Errors of user classes come back as `Error` carrying
 * the original `name` (and `code`, when the thrown error had a string `code`, as Node's errors do).
 */
export function reviveError(recorded: RecordedError): Error {
  const options: KairosErrorOptions = { details: recorded.details ?? {} };
  let error: Error;
  const code = recorded.code;
  const known = code === undefined ? undefined : errorClasses().get(code);
  if (known !== undefined) error = new known(recorded.message, options);
  else if (code !== undefined && isErrorCode(code)) error = new KairosError(code, recorded.message, options);
  else {
    error = new Error(recorded.message);
    if (code !== undefined) (error as Error & { code?: string }).code = code;
  }
  // Keep the recorded name even for Kairos classes: a user subclass of TimeoutError stays recognisable.
  error.name = recorded.name;
  if (recorded.stack !== undefined) error.stack = recorded.stack;
  return error;
}
