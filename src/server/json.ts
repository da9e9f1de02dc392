import { InvalidRequestError } from '../errors.js';

/**
 * JSON in and out of the API. In: a depth limit checked on the raw text before parsing, so a
 * 100 000-deep array costs one linear scan and no recursion anywhere. Out: `<`, `>`, `&` and the
 * two JavaScript line separators are written as \u escapes, so a name like `<script>` can never be
 * interpreted as markup even by a client that sniffs content types.
 */

/** Throws InvalidRequestError when objects/arrays nest deeper than `maxDepth` in raw JSON text. */
export function checkJsonDepth(text: string, maxDepth: number): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i += 1; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      depth += 1;
      if (depth > maxDepth) {
        throw new InvalidRequestError(`The JSON body nests deeper than ${maxDepth} levels; flatten it.`, { details: { maxDepth } });
      }
    } else if (c === 0x7d || c === 0x5d) depth -= 1;
  }
}

const UNSAFE = /[<>&\u2028\u2029]/g;
const ESCAPES: Record<string, string> = { '<': '\\u003c', '>': '\\u003e', '&': '\\u0026', '\u2028': '\\u2028', '\u2029': '\\u2029' };

export function safeJsonStringify(value: unknown): string {
  return (JSON.stringify(value) ?? 'null').replace(UNSAFE, (c) => ESCAPES[c] ?? c);
}

/**
 * Parses a request body. `__proto__` keys, and `constructor` keys holding a `prototype`, are refused:
 * harmless to JSON.parse itself, they poison objects later merged with them.
 */
export function parseJsonBody(text: string, maxDepth: number): unknown {
  if (text.trim() === '') throw new InvalidRequestError('The body is empty but content-type is application/json; send a JSON value.');
  checkJsonDepth(text, maxDepth);
  try {
    return JSON.parse(text, function (this: unknown, key: string, value: unknown) {
      if (key === '__proto__' || (key === 'constructor' && typeof value === 'object' && value !== null && 'prototype' in value)) {
        throw new InvalidRequestError(`The JSON body has a '${key}' key, which is refused (prototype pollution).`, { details: { key } });
      }
      return value;
    });
  } catch (error) {
    if (error instanceof InvalidRequestError) throw error;
    // SyntaxError messages quote the offending input; the position is enough.
    const position = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    throw new InvalidRequestError(`The body is not valid JSON${position === undefined ? '' : ` (at position ${position})`}.`);
  }
}
