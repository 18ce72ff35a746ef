import { and, inArray, lt, sql } from 'drizzle-orm'
import type { DbOrTx } from './client.js'
import { assignments, prepared } from './prepared.js'
import { fulfilments, leads, promoters, quarantine, webhookEvents } from './schema.js'

export interface PruneReport {
  /** Inbox rows whose payload was dropped (the row, its id and type stay for dedupe and audit). */
  payloads: number
  quarantine: number
  /** Fulfilments, leads and promoters whose personal fields were cleared. */
  personal: number
}

export interface PruneOptions {
  /** Inbox rows per statement (each its own transaction). Default 5,000. */
  batchSize?: number
  /** Pause between two inbox batches, so that deliveries are never queued behind the prune. Default 20 ms. */
  pauseMs?: number
}

export const DEFAULT_PRUNE_BATCH_SIZE = 5000
export const DEFAULT_PRUNE_PAUSE_MS = 20

/**
 * One batch of inbox payloads, walking the primary key upwards from `after`: each statement locks
 * and writes at most `batchSize` rows and commits, so a million-row prune never holds a long
 * transaction, and the walk reads the table once in all.
 */
const prunePayloads = prepared<{ before: Date, after: number, batchSize: number }, { last: string | null, n: number }>((value) => sql`
  with batch as (
    select ${webhookEvents.id} from ${webhookEvents}
    where ${webhookEvents.id} > ${value('after')}::bigint
      and ${webhookEvents.receivedAt} < ${value('before')}::timestamptz
      and ${webhookEvents.state} in ('processed', 'failed', 'test')
      and ${webhookEvents.prunedAt} is null
    order by ${webhookEvents.id}
    limit ${value('batchSize')}::int
  ), done as (
    update ${webhookEvents} set ${assignments(webhookEvents, { payload: sql`null`, prunedAt: sql`now()` })}
    from batch where ${webhookEvents.id} = batch.id
    returning ${webhookEvents.id}
  )
  select max(id)::text as "last", count(*)::int as "n" from done`)

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Drops what is old and personal; keeps what proves grants. Inbox payloads of finished events (and
 * tests), quarantined bodies, and emails/profiles in fulfilments and projections last touched
 * before `before` are removed. The ledger and every id are kept. The inbox goes in batches by
 * primary key (see `PruneOptions`), each committed on its own: an interrupted prune has pruned what
 * it reports and the next run carries on. The rest is one transaction (a savepoint in a caller's).
 */
export async function prune (db: DbOrTx, before: Date, options: PruneOptions = {}): Promise<PruneReport> {
  const batchSize = Math.max(1, Math.floor(options.batchSize ?? DEFAULT_PRUNE_BATCH_SIZE))
  const pauseMs = Math.max(0, options.pauseMs ?? DEFAULT_PRUNE_PAUSE_MS)
  let payloads = 0
  let after = 0
  for (;;) {
    const [row] = await prunePayloads(db, { before, after, batchSize })
    if (!row || row.n === 0 || row.last === null) break
    payloads += row.n
    after = Number(row.last)
    if (row.n < batchSize) break
    if (pauseMs > 0) await sleep(pauseMs)
  }
  return db.transaction(async (tx) => {
    const q = await tx.delete(quarantine).where(lt(quarantine.receivedAt, before)).returning({ id: quarantine.id })
    const f = await tx.update(fulfilments).set({ promoterEmail: null })
      .where(and(lt(fulfilments.updatedAt, before), sql`${fulfilments.promoterEmail} is not null`, inArray(fulfilments.state, ['granted', 'failed'])))
      .returning({ id: fulfilments.id })
    const l = await tx.update(leads).set({ email: null })
      .where(and(lt(leads.updatedAt, before), sql`${leads.email} is not null`)).returning({ id: leads.id })
    const p = await tx.update(promoters).set({ email: null, profile: null })
      .where(and(lt(promoters.updatedAt, before), sql`(${promoters.email} is not null or ${promoters.profile} is not null)`)).returning({ id: promoters.id })
    return { payloads, quarantine: q.length, personal: f.length + l.length + p.length }
  })
}
