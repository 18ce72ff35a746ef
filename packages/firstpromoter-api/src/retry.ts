export const BACKOFF_BASE_MS = 500
export const BACKOFF_CAP_MS = 30_000
/** A server asking for a longer pause than this is asked to wait this long instead. */
export const RETRY_AFTER_CAP_MS = 60_000

/**
 * Delay before retry number `retry` (0 for the first retry): exponential with "equal jitter",
 * so at least half the exponential step is always waited and workers spread out over the rest.
 */
export function backoffDelay (retry: number, random: () => number = Math.random): number {
  const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** retry)
  return Math.round(step / 2 + random() * (step / 2))
}

/**
 * Parses a `Retry-After` header: delay-seconds or an HTTP date.
 * @returns milliseconds to wait (capped at {@link RETRY_AFTER_CAP_MS}), or undefined when absent or unreadable
 */
export function parseRetryAfter (value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined
  const text = value.trim()
  if (text === '') return undefined
  let ms: number
  if (/^\d+(\.\d+)?$/.test(text)) {
    ms = Math.round(Number(text) * 1000)
  } else {
    const at = Date.parse(text)
    if (Number.isNaN(at)) return undefined
    ms = Math.max(0, at - now)
  }
  return Math.min(ms, RETRY_AFTER_CAP_MS)
}

export const defaultSleep = async (ms: number): Promise<void> => {
  await new Promise<void>(resolve => setTimeout(resolve, ms))
}
