// Tests share the project's Redis; each test gets its own BullMQ key prefix so queues
// never collide, and cleans its keys afterwards.
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export function redisUrl(): string {
  const url = process.env.REDIS_URL;
  if (!url)
    throw new Error('REDIS_URL is not set: run the tests with `npm test` (it starts Redis)');
  return url;
}

export function uniquePrefix(name = 't'): string {
  return `ditest:${name}:${randomBytes(4).toString('hex')}`;
}

/** Deletes every key under a prefix (SCAN, not KEYS, so Redis is not blocked). */
export async function deletePrefix(prefix: string): Promise<void> {
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}
