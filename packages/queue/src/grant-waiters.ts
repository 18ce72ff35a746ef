import type { Redis } from 'ioredis'
import { grantSettledChannel, parseGrantSettled } from './grant-signal.js'

/** Announcements with nobody waiting are kept this long: the grant may finish before its wait begins. */
const RECENT_MS = 10_000
const RECENT_MAX = 50_000

/**
 * Waits for grant announcements (`announceGrantSettled`) on one subscriber connection per process,
 * each wait a map entry and a timer: no Redis command per wait.
 */
export function createGrantWaiters (subscriber: Redis, prefix: string) {
  const channel = grantSettledChannel(prefix)
  const waiting = new Map<number, Set<() => void>>()
  // Insertion order is arrival order: the oldest are dropped first.
  const recent = new Map<number, number>()

  const forget = (now: number) => {
    for (const [id, at] of recent) {
      if (now - at < RECENT_MS && recent.size <= RECENT_MAX) break
      recent.delete(id)
    }
  }

  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return
    const id = parseGrantSettled(message)
    if (id === null) return
    const now = Date.now()
    recent.delete(id)
    recent.set(id, now)
    forget(now)
    const wakers = waiting.get(id)
    if (wakers) for (const wake of [...wakers]) wake()
  })

  let subscribed: Promise<unknown> | undefined
  const subscribe = () => {
    subscribed ??= subscriber.subscribe(channel).catch((err: unknown) => {
      subscribed = undefined
      throw err
    })
    return subscribed
  }

  return {
    /** Resolves on the fulfilment's announcement (or one seen in the last few seconds), or after `timeoutMs`. */
    async wait (fulfilmentId: number, timeoutMs: number): Promise<void> {
      const started = Date.now()
      const seen = recent.get(fulfilmentId)
      if (seen !== undefined && started - seen < RECENT_MS) return
      await new Promise<void>((resolve) => {
        let wakers = waiting.get(fulfilmentId)
        if (!wakers) waiting.set(fulfilmentId, wakers = new Set())
        const done = () => {
          clearTimeout(timer)
          wakers.delete(done)
          if (wakers.size === 0) waiting.delete(fulfilmentId)
          resolve()
        }
        wakers.add(done)
        const timer = setTimeout(done, timeoutMs)
        // Not yet subscribed (the first wait, a reconnect): an announcement may have been missed
        // meanwhile; the budget then runs out and the store gives the answer.
        subscribe().then(() => {
          const at = recent.get(fulfilmentId)
          if (at !== undefined && at >= started - RECENT_MS) done()
        }, () => {})
      })
    },
    /** Subscribes now, so that the first wait does not miss an announcement. */
    ready: () => subscribe().then(() => true, () => false)
  }
}
