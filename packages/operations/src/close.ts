import { getFulfilment, resetFailedClose, type Db } from '@fp-webhooks/db'
import type { Jobs } from '@fp-webhooks/queue'

/**
 * An operator's retry of a failed API close (after fixing its cause, e.g. the API key): due again,
 * and its close job queued (a failed job holding the id is replaced).
 * @returns null when unknown; `retried: false` with its `apiClose` when the close had not failed
 */
export async function retryClose (db: Db, jobs: Pick<Jobs, 'close'>, id: number) {
  if (!await resetFailedClose(db, id)) {
    const f = await getFulfilment(db, id)
    return f ? { id, retried: false as const, apiClose: f.apiClose } : null
  }
  await jobs.close(id)
  return { id, retried: true as const, apiClose: 'pending' as const }
}
