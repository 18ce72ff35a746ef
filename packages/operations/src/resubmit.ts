import { getQuarantined, markResubmitted, type Db } from '@fp-webhooks/db'

/** What sends a delivery through the webhook route in-process: a Fastify instance. */
export interface Injector {
  inject: (options: { method: 'POST', url: string, headers: Record<string, string>, payload: string }) => PromiseLike<{ statusCode: number, json: () => unknown }>
}

export type ResubmitResult =
  | { resubmitted: boolean, statusCode: number, answer: unknown }
  | { noBody: true }

/**
 * Sends a quarantined delivery (or a corrected body for it) through the webhook route again, so
 * that validation, redaction, dedupe and the protocol all apply; noted as resubmitted once accepted.
 * @param webhookUrl the webhook route with a valid secret
 * @param corrected the body to send instead of the stored one
 * @returns null when no entry has that id; `noBody` when none was kept and no correction is given
 */
export async function resubmitQuarantined (
  server: Injector,
  db: Db,
  webhookUrl: string,
  id: number,
  corrected?: unknown
): Promise<ResubmitResult | null> {
  const entry = await getQuarantined(db, id)
  if (!entry) return null
  const payload = corrected !== undefined ? JSON.stringify(corrected) : entry.body
  if (payload === null || payload === undefined) return { noBody: true }
  const res = await server.inject({ method: 'POST', url: webhookUrl, headers: { 'content-type': 'application/json' }, payload })
  const accepted = res.statusCode >= 200 && res.statusCode < 300
  if (accepted) await markResubmitted(db, entry.id)
  return { resubmitted: accepted, statusCode: res.statusCode, answer: res.json() }
}
