import { createPauseCache, getGrantPauses, listResumable, pauseGrants, resumeGrants, type Db, type GrantPause, type GrantPauseStatus } from '@fp-webhooks/db'
import type { Jobs } from '@fp-webhooks/queue'
import type { ReconcileLog } from './reconcile.js'

/** What is paused, as the admin API and the console show it. */
export interface PauseView {
  /** Every unit's grants are paused. */
  all: boolean
  /** Units paused one by one. */
  units: string[]
  pauses: Array<{ scope: 'all' | 'unit', unit: string | null, paused_at: string, paused_by: string }>
}

export type ResumeOutcome =
  | { resumed: true, lifted: string[], queued: number }
  | { resumed: false, reason: 'paused-for-all' }

const view = (status: GrantPauseStatus): PauseView => {
  const row = (p: GrantPause, scope: 'all' | 'unit') => ({ scope, unit: scope === 'all' ? null : p.scope, paused_at: p.pausedAt.toISOString(), paused_by: p.pausedBy })
  return {
    all: status.all !== null,
    units: status.units.map((p) => p.scope),
    pauses: [...(status.all ? [row(status.all, 'all')] : []), ...status.units.map((p) => row(p, 'unit'))]
  }
}

/**
 * The pause switch of grants, kept in Postgres (`grant_pauses`) so that every api and worker
 * process obeys it: workers read it with each fulfilment they grant; this process caches it for a
 * second (`cache`) where being a little late is harmless. Each change is logged with who made it.
 */
export function createGrantPauseSwitch (deps: { db: Db, jobs: Pick<Jobs, 'grantNow'>, log: ReconcileLog, cacheTtlMs?: number }) {
  const { db, jobs, log } = deps
  const cache = createPauseCache(db, { ttlMs: deps.cacheTtlMs })

  /** Promotes the grants a resume lets run (their jobs wait out a pause's delay otherwise). */
  async function queueResumable (units: string[] | undefined): Promise<number> {
    let queued = 0
    let afterId: number | undefined
    for (;;) {
      const page = await listResumable(db, { units, afterId, limit: 500 })
      for (const f of page) {
        await jobs.grantNow(f.id, { unit: f.unit, amount: f.amount })
        queued++
      }
      if (page.length < 500) return queued
      afterId = page[page.length - 1]!.id
    }
  }

  return {
    cache,
    /** Fresh from Postgres (the admin API's GET). */
    async status (): Promise<PauseView> {
      return view(await getGrantPauses(db))
    },
    /** From the cache (metrics, the console's banner, the webhook's no-wait shortcut). */
    async cachedStatus (): Promise<GrantPauseStatus> {
      return cache.status()
    },
    async pause (options: { unit?: string, by: string }): Promise<PauseView> {
      const { created } = await pauseGrants(db, options)
      cache.invalidate()
      const scope = options.unit === undefined ? 'all units' : `unit ${options.unit}`
      log.info({ pause: { action: 'pause', unit: options.unit ?? null, by: options.by, changed: created } }, created ? `grants paused for ${scope}` : `grants already paused for ${scope}`)
      return this.status()
    },
    /**
     * Lifts a unit's pause, or every pause; then queues the grants that may run now (the workers
     * deferred them while paused), so they run at once. Those answered 202 meanwhile are closed
     * through FirstPromoter's API by the worker, or answered 200 on their re-fire.
     */
    async resume (options: { unit?: string, by: string }): Promise<ResumeOutcome> {
      if (options.unit !== undefined && (await getGrantPauses(db)).all) return { resumed: false, reason: 'paused-for-all' }
      const lifted = await resumeGrants(db, { unit: options.unit })
      cache.invalidate()
      const scope = options.unit === undefined ? 'all units' : `unit ${options.unit}`
      let queued = 0
      try {
        queued = await queueResumable(options.unit === undefined ? undefined : [options.unit])
      } catch (err) {
        // The deferred jobs still run once their delay ends (GRANT_PAUSE_RECHECK_MS), and the sweeper
        // re-queues the rest.
        log.warn({ err: { message: (err as Error).message } }, 'grants resumed, but their jobs could not be promoted now: they run when their pause delay ends')
      }
      log.info({ pause: { action: 'resume', unit: options.unit ?? null, by: options.by, lifted: lifted.map((p) => p.scope), queued } }, `grants resumed for ${scope}`)
      return { resumed: true, lifted: lifted.map((p) => p.scope === '*' ? 'all' : p.scope), queued }
    }
  }
}

export type GrantPauseSwitch = ReturnType<typeof createGrantPauseSwitch>
