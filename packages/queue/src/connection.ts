import { Redis, type RedisOptions } from 'ioredis'

/**
 * A Redis connection for a producer (the api): commands fail fast while Redis is away instead of
 * queueing in memory, so a webhook is answered at once and the sweeper catches up later.
 */
export function createProducerConnection (url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options
  })
}

/**
 * A Redis connection for a worker or QueueEvents: BullMQ requires `maxRetriesPerRequest: null`
 * for blocking commands.
 */
export function createWorkerConnection (url: string, options: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...options
  })
}
