/**
 * Checks a job's payload before anything is sent: it must survive JSON unchanged (no BigInt, cycle,
 * function, symbol, Map, Set, NaN…) and fit the size limit. Silent JSON losses — a function property
 * dropped, a Map turned into `{}` — are refused too, because the handler would see different input
 * than the caller passed, and only on another machine, much later.
 */
import { PayloadNotSerializableError, PayloadTooLargeError } from '../errors.js';

export { DEFAULT_MAX_PAYLOAD_BYTES } from './contract.js';

function describe(value: unknown): string {
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'bigint') return 'a BigInt';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object' && value !== null) return `a ${value.constructor?.name ?? 'null-prototype object'}`;
  return typeof value;
}

function notSerializable(field: string, path: string, what: string, hint: string): never {
  throw new PayloadNotSerializableError(`${path} is ${what}, which JSON cannot carry: ${hint}`, {
    details: { field, path, found: what },
  });
}

function walk(value: unknown, path: string, field: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) notSerializable(field, path, describe(value), 'pass a finite number or null.');
      return;
    case 'undefined':
      return;
    case 'bigint':
      notSerializable(field, path, 'a BigInt', 'pass it as a string (value.toString()).');
      break;
    case 'function':
    case 'symbol':
      notSerializable(field, path, describe(value), 'pass data only; the handler is looked up by its key on the worker.');
      break;
    case 'object': {
      if (value === null) return;
      if (ancestors.has(value)) notSerializable(field, path, 'a reference to one of its own parents (a cycle)', 'pass a tree, not a graph.');
      const proto: unknown = Object.getPrototypeOf(value);
      const plain = proto === Object.prototype || proto === null || Array.isArray(value);
      if (!plain) {
        // Dates and other objects with toJSON serialise deliberately; anything else would lose data.
        if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return;
        notSerializable(field, path, describe(value), 'convert it to plain objects, arrays and primitives first.');
      }
      ancestors.add(value);
      if (Array.isArray(value)) {
        value.forEach((item, i) => walk(item, `${path}[${i}]`, field, ancestors));
      } else {
        for (const [key, item] of Object.entries(value)) walk(item, `${path}.${key}`, field, ancestors);
        if (Object.getOwnPropertySymbols(value).length > 0) notSerializable(field, path, 'an object with symbol keys', 'use string keys.');
      }
      ancestors.delete(value);
      return;
    }
  }
}

/**
 * Throws PayloadNotSerializableError (naming the path, e.g. `context.repos[2]`) or
 * PayloadTooLargeError; returns the size in bytes of the JSON that will be sent.
 */
export function checkPayload(value: unknown, options: { field: string; maxBytes: number }): number {
  walk(value, options.field, options.field, new Set());
  const bytes = Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
  if (bytes > options.maxBytes) {
    throw new PayloadTooLargeError(
      `${options.field} is ${bytes} bytes of JSON, over the ${options.maxBytes}-byte limit: store large data in object storage and pass a reference (or raise maxPayloadBytes).`,
      { details: { field: options.field, bytes, maxBytes: options.maxBytes } },
    );
  }
  return bytes;
}
