/**
 * Whether `payload` contains `subset`: every key of the subset is present in the payload with an
 * equal value — objects compared the same way recursively (extra keys in the payload are fine),
 * arrays and scalars by deep equality. `{ model: 'demand' }` matches `{ model: 'demand', score: 0.4 }`.
 */
export function matchesSubset(payload: unknown, subset: Record<string, unknown>): boolean {
  if (!isPlainObject(payload)) return false;
  return Object.entries(subset).every(([key, expected]) => {
    if (!Object.hasOwn(payload, key)) return false;
    const actual = payload[key];
    return isPlainObject(expected) ? matchesSubset(actual, expected) : deepEqual(actual, expected);
  });
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
  }
  return false;
}
