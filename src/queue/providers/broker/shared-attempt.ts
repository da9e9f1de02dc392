/**
 * One in-flight or settled attempt per key, shared by every caller — and forgotten when it fails, so
 * that a broker that was down at the first `ensureQueue` (or consumer start) is tried again by the
 * next call instead of poisoning that queue for the life of the provider.
 */
export function sharedAttempt<T>(cache: Map<string, Promise<T>>, key: string, create: () => Promise<T>): Promise<T> {
  let attempt = cache.get(key);
  if (attempt === undefined) {
    attempt = create().catch((error: unknown) => {
      cache.delete(key);
      throw error;
    });
    cache.set(key, attempt);
  }
  return attempt;
}
