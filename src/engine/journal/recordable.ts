import { createHash } from 'node:crypto';
import { KairosError, StepOutputNotRecordableError, toError } from '../../errors.js';
import type { RecordedError } from '../types.js';

/** Default cap on one recorded value (a step output, a run result, an event payload): 1 MiB of JSON. */
export const DEFAULT_MAX_RECORD_BYTES = 1_048_576;

/**
 * Encodes a value for the journal as JSON text, or throws StepOutputNotRecordableError.
 *
 * Replay hands back exactly what was recorded, so values JSON would silently change or drop are
 * refused rather than stored wrong: functions, symbols, BigInts, Maps and Sets, cycles, and anything
 * over `maxBytes`. `undefined` is recorded as SQL NULL and replays as `undefined`. Dates are accepted
 * and replay as their ISO string (documented).
 */
export function encodeRecordable(value: unknown, what: string, maxBytes: number): string | null {
  if (value === undefined) return null;
  let json: string;
  try {
    json = JSON.stringify(value, (key, inner: unknown) => {
      const problem = unrecordable(inner);
      if (problem !== null) {
        throw new StepOutputNotRecordableError(
          `${what} cannot be recorded in the journal: ${problem} at ${key === '' ? 'the top level' : `key '${key}'`}. Return plain JSON data (objects, arrays, strings, numbers, booleans, null).`,
          { details: { what, key, problem } },
        );
      }
      return inner;
    });
  } catch (error) {
    if (error instanceof StepOutputNotRecordableError) throw error;
    throw new StepOutputNotRecordableError(
      `${what} cannot be recorded in the journal: ${toError(error).message}. Return plain JSON data without cycles.`,
      { cause: error, details: { what } },
    );
  }
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > maxBytes) {
    throw new StepOutputNotRecordableError(
      `${what} is ${bytes} bytes of JSON, over the journal limit of ${maxBytes}. Store large data elsewhere (object storage, a table) and return a reference.`,
      { details: { what, bytes, maxBytes } },
    );
  }
  return json;
}

function unrecordable(value: unknown): string | null {
  switch (typeof value) {
    case 'function':
      return 'a function';
    case 'symbol':
      return 'a symbol';
    case 'bigint':
      return 'a BigInt';
    default:
      if (value instanceof Map) return 'a Map';
      if (value instanceof Set) return 'a Set';
      if (value instanceof Promise) return 'a Promise (did you forget an await?)';
      return null;
  }
}

export function decodeRecorded(text: string | null): unknown {
  return text === null ? undefined : JSON.parse(text);
}

/** A short stable hash of a step's input, so the UI and `retry` can tell whether the input changed. */
export function hashInput(json: string | null): string | null {
  if (json === null) return null;
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

export function recordError(thrown: unknown): RecordedError {
  const error = toError(thrown);
  const recorded: RecordedError = { name: error.name, message: error.message };
  if (error.stack !== undefined) recorded.stack = error.stack;
  if (error instanceof KairosError) {
    recorded.code = error.code;
    recorded.details = error.details;
  } else {
    // Node's and drivers' errors carry a string code (ECONNRESET, 40001…): keep it for retryIf on replay.
    const code = (error as Error & { code?: unknown }).code;
    if (typeof code === 'string') recorded.code = code;
  }
  return recorded;
}
