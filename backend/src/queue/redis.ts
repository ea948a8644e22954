// Redis connections. Two kinds, on purpose:
// - producer (request paths): no offline queue and a short command timeout, so a request never
//   waits on a Redis outage; the inbox row is already committed and the sweeper enqueues later.
// - worker (BullMQ workers, schedulers): maxRetriesPerRequest null and the offline queue on,
//   so blocking commands survive a Redis restart and pick up where they left off.
import { Redis, type RedisOptions } from 'ioredis';

export type RedisRole = 'producer' | 'worker';

export function redisOptions(role: RedisRole): RedisOptions {
  const base: RedisOptions = {
    connectTimeout: 2_000,
    // Reconnect quickly, capped: outages are expected (restarts), not fatal.
    retryStrategy: (times) => Math.min(100 * times, 2_000),
    lazyConnect: false
  };
  if (role === 'producer') {
    return {
      ...base,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 1_000
    };
  }
  return { ...base, maxRetriesPerRequest: null, enableReadyCheck: true };
}

export function createRedis(url: string, role: RedisRole): Redis {
  const redis = new Redis(url, redisOptions(role));
  // Without a listener ioredis prints every connection error; callers log what matters.
  redis.on('error', () => {});
  return redis;
}

/** PING with a deadline, for /readyz. */
export async function pingRedis(redis: Redis, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.ping(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
      })
    ]);
  } finally {
    clearTimeout(timer);
  }
}
