import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { SERVICES } from '../../support/services.js';

/** A key prefix no other test file or run uses. */
export function freshRedisPrefix(label: string): string {
  return `kt_${label}_${randomUUID().slice(0, 8)}`;
}

/** Deletes every key under the prefixes (SCAN, never KEYS, so a shared server is not blocked). */
export async function deleteRedisPrefixes(prefixes: readonly string[], url: string = SERVICES.redis.url): Promise<void> {
  if (prefixes.length === 0) return;
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    for (const prefix of prefixes) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
