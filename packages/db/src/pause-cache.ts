import type { DbOrTx } from './client.js'
import { getGrantPauses, type GrantPauseStatus } from './grant-pauses.js'

/** How long a process trusts the pause switch it read, by default. */
export const DEFAULT_PAUSE_CACHE_TTL_MS = 1000

/**
 * The pause switch as read at most once per `ttlMs`, for what may be a little late without harm
 * (an api not waiting for a grant that cannot run, a metric, a banner); concurrent reads share one
 * query. The grant itself never trusts it: the worker reads the switch with the fulfilment.
 */
export function createPauseCache (db: DbOrTx, options: { ttlMs?: number } = {}) {
  const ttlMs = options.ttlMs ?? DEFAULT_PAUSE_CACHE_TTL_MS
  let value: GrantPauseStatus | undefined
  let readAt = 0
  let reading: Promise<GrantPauseStatus> | undefined
  // A read begun before `invalidate` may hold the old switch: it must not be cached.
  let generation = 0

  const read = (): Promise<GrantPauseStatus> => {
    if (reading) return reading
    const started = generation
    const current = getGrantPauses(db)
      .then((status) => {
        if (started === generation) { value = status; readAt = Date.now() }
        return status
      })
      .finally(() => { if (reading === current) reading = undefined })
    reading = current
    return current
  }

  const status = async (): Promise<GrantPauseStatus> => (value && Date.now() - readAt < ttlMs ? value : read())

  return {
    status,
    /** True when the grants of `unit` are paused (by its own pause or by a pause of every unit). */
    async isPaused (unit: string): Promise<boolean> {
      const s = await status()
      return s.all !== null || s.units.some((p) => p.scope === unit)
    },
    /** Forgets the cached value: this process just changed the switch. */
    invalidate (): void {
      generation++
      readAt = 0
      reading = undefined
    }
  }
}

export type PauseCache = ReturnType<typeof createPauseCache>
