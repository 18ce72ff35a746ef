import type { Redis } from 'ioredis'
import { grantSettledChannel, parseGrantSettled, type GrantAnnouncement } from './grant-signal.js'

/** An announcement and when it was heard. */
type Heard = GrantAnnouncement & { at: number }

/** Announcements with nobody waiting are kept this long: the grant may finish before its wait begins. */
const RECENT_MS = 10_000
const RECENT_MAX = 50_000

/**
 * Waits for grant announcements (`announceGrantSettled`) on one subscriber connection per process,
 * each wait a map entry and a timer: no Redis command per wait.
 */
export function createGrantWaiters (subscriber: Redis, prefix: string) {
  const channel = grantSettledChannel(prefix)
  const waiting = new Map<number, Set<(heard: Heard) => void>>()
  // Insertion order is arrival order: the oldest are dropped first.
  const recent = new Map<number, Heard>()

  const forget = (now: number) => {
    for (const [id, { at }] of recent) {
      if (now - at < RECENT_MS && recent.size <= RECENT_MAX) break
      recent.delete(id)
    }
  }

  subscriber.on('message', (from: string, message: string) => {
    if (from !== channel) return
    const announced = parseGrantSettled(message)
    if (announced === null) return
    const id = announced.fulfilmentId
    const heard = { ...announced, at: Date.now() }
    recent.delete(id)
    recent.set(id, heard)
    forget(heard.at)
    const wakers = waiting.get(id)
    if (wakers) for (const wake of [...wakers]) wake(heard)
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
    /**
     * Resolves on the fulfilment's announcement (or one heard in the last few seconds), or after
     * `timeoutMs`: with `granted` when the announcement says granted and carries `ticket` (the grant
     * of the job this process queued with it), else with nothing.
     */
    async wait (fulfilmentId: number, timeoutMs: number, ticket?: string): Promise<'granted' | undefined> {
      const outcome = (heard: Heard | undefined) =>
        heard?.outcome === 'granted' && ticket !== undefined && heard.ticket === ticket ? 'granted' as const : undefined
      const started = Date.now()
      const seen = recent.get(fulfilmentId)
      if (seen !== undefined && started - seen.at < RECENT_MS) return outcome(seen)
      return new Promise<'granted' | undefined>((resolve) => {
        let wakers = waiting.get(fulfilmentId)
        if (!wakers) waiting.set(fulfilmentId, wakers = new Set())
        const done = (heard?: Heard) => {
          clearTimeout(timer)
          wakers.delete(done)
          if (wakers.size === 0) waiting.delete(fulfilmentId)
          resolve(outcome(heard))
        }
        wakers.add(done)
        const timer = setTimeout(done, timeoutMs)
        // Not yet subscribed (the first wait, a reconnect): an announcement may have been missed
        // meanwhile; the budget then runs out and the store gives the answer.
        subscribe().then(() => {
          const heard = recent.get(fulfilmentId)
          if (heard !== undefined && heard.at >= started - RECENT_MS) done(heard)
        }, () => {})
      })
    },
    /** Subscribes now, so that the first wait does not miss an announcement. */
    ready: () => subscribe().then(() => true, () => false)
  }
}
