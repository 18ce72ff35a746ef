import { defaultSleep } from './retry.js'

/** Awaited before every HTTP attempt; resolves when the caller may send. */
export interface RateLimiter {
  acquire: () => Promise<void>
}

/**
 * The one Redis command the limiter needs, typed structurally so this package does not
 * depend on ioredis: an ioredis `Redis` or `Cluster` fits as is.
 */
export interface RedisEvalClient {
  eval: (script: string, numKeys: number, ...args: Array<string | number>) => Promise<unknown>
}

export interface RedisRateLimiterOptions {
  redis: RedisEvalClient
  /** The counter's key; every process sharing one budget must use the same key. */
  key: string
  /** Requests allowed per window. Default 300 (v2 allows 400 a minute). */
  perMinute?: number
  /** Window length. Default 60000; tests shorten it. */
  windowMs?: number
  sleep?: (ms: number) => Promise<void>
  /** Jitter source in [0, 1). Default Math.random. */
  random?: () => number
}

/** v2 allows 400 requests a minute per account; this leaves room for other callers. */
export const DEFAULT_V2_PER_MINUTE = 300
export const DEFAULT_WINDOW_MS = 60_000

// Count this request in the current window; the first request of a window starts its clock.
// The PTTL repair covers a key that exists without an expiry (written by hand or by another
// tool), which would otherwise block every caller forever.
const SCRIPT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {n, ttl}
`

/**
 * A fixed-window counter in Redis shared by every process using the same `key`. Over the
 * limit, `acquire` sleeps until the window ends (plus a little jitter, so waiting workers do
 * not all fire at once) and tries again.
 * @throws TypeError for invalid options; `acquire` rejects when Redis does
 */
export function createRedisRateLimiter (options: RedisRateLimiterOptions): RateLimiter {
  const { redis, key } = options
  const perMinute = options.perMinute ?? DEFAULT_V2_PER_MINUTE
  const windowMs = options.windowMs ?? DEFAULT_WINDOW_MS
  const sleep = options.sleep ?? defaultSleep
  const random = options.random ?? Math.random
  if (typeof redis?.eval !== 'function') throw new TypeError('createRedisRateLimiter: redis must have an eval method')
  if (typeof key !== 'string' || key === '') throw new TypeError('createRedisRateLimiter: key must be a non-empty string')
  if (!Number.isInteger(perMinute) || perMinute < 1) throw new TypeError('createRedisRateLimiter: perMinute must be a positive integer')
  if (!Number.isInteger(windowMs) || windowMs < 1) throw new TypeError('createRedisRateLimiter: windowMs must be a positive integer')
  const maxJitterMs = Math.min(250, Math.ceil(windowMs / 20))

  async function acquire (): Promise<void> {
    for (;;) {
      const reply = await redis.eval(SCRIPT, 1, key, windowMs)
      const [count, ttl] = parseReply(reply)
      if (count <= perMinute) return
      await sleep(Math.max(1, ttl) + Math.floor(random() * maxJitterMs))
    }
  }

  return { acquire }
}

function parseReply (reply: unknown): [number, number] {
  if (Array.isArray(reply) && reply.length === 2) {
    const count = Number(reply[0])
    const ttl = Number(reply[1])
    if (Number.isFinite(count) && Number.isFinite(ttl)) return [count, ttl]
  }
  throw new TypeError(`createRedisRateLimiter: unexpected reply from Redis: ${JSON.stringify(reply)}`)
}
