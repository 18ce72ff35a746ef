import type { EventRow, Fulfilment, LedgerEntry } from '@fp-webhooks/db'

type Answer = { eventId: string | null, statusCode: number, reason: string | null, answeredAt: Date }

/** One line of a fulfilment's history. `tone` colours its badge. */
export interface TimelineEntry {
  at: Date
  kind: 'delivery' | 'answer' | 'grant' | 'failure' | 'retrying' | 'close'
  badge: string
  tone: 'ok' | 'warn' | 'bad' | 'muted'
  title: string
  detail?: string
  /** The inbox row, for a delivery. */
  inboxId?: number
}

const ANSWER_MEANING: Record<number, string> = {
  200: 'granted: FirstPromoter closes it',
  202: 'still pending: FirstPromoter asks again later',
  422: 'cannot be granted: FirstPromoter marks it has_issues',
  503: 'not stored: FirstPromoter retries'
}

/**
 * Every step of a fulfilment in time order: each delivery, each answer we gave, the grant (or its
 * failure, or the transient error it is retrying), and the API close.
 */
export function buildTimeline (input: {
  fulfilment: Fulfilment
  answers: readonly Answer[]
  deliveries: ReadonlyArray<EventRow>
  ledger: LedgerEntry | null
}): TimelineEntry[] {
  const { fulfilment: f, answers, deliveries, ledger } = input
  const entries: TimelineEntry[] = []
  for (const d of deliveries) {
    entries.push({ at: d.receivedAt, kind: 'delivery', badge: 'delivery', tone: 'muted', title: `Delivery received (event ${d.eventId})`, detail: `inbox #${d.id}, processing ${d.state}`, inboxId: d.id })
  }
  for (const a of answers) {
    const tone = a.statusCode === 200 ? 'ok' : a.statusCode === 202 ? 'warn' : 'bad'
    entries.push({ at: new Date(a.answeredAt), kind: 'answer', badge: String(a.statusCode), tone, title: `Answered ${a.statusCode}: ${ANSWER_MEANING[a.statusCode] ?? 'answered'}`, detail: [a.eventId ? `event ${a.eventId}` : null, a.reason].filter(Boolean).join(' · ') || undefined })
  }
  if (ledger) {
    // The fulfilment's time is the grant's commit; the ledger row's is its transaction's start,
    // before the integrator's grant function ran.
    entries.push({ at: new Date(f.grantedAt ?? ledger.grantedAt), kind: 'grant', badge: 'granted', tone: 'ok', title: `Granted ${ledger.amount} ${ledger.unit} to ${ledger.beneficiary}`, detail: `ledger row #${ledger.id}` })
  } else if (f.state === 'granted' && f.grantedAt) {
    entries.push({ at: new Date(f.grantedAt), kind: 'grant', badge: 'granted', tone: 'ok', title: `Granted ${f.amount} ${f.unit} to ${f.beneficiary}`, detail: 'by the integrator\'s grant function' })
  }
  if (f.state === 'failed') {
    entries.push({ at: new Date(f.updatedAt), kind: 'failure', badge: 'failed', tone: 'bad', title: 'Grant failed for good', detail: f.failureReason ?? undefined })
  } else if (f.state !== 'granted' && f.lastError) {
    entries.push({ at: new Date(f.updatedAt), kind: 'retrying', badge: 'retrying', tone: 'warn', title: `Grant attempt failed, retrying with backoff (${f.attempts} attempts so far)`, detail: f.lastError })
  }
  if (f.apiClose === 'done' && f.apiClosedAt) {
    entries.push({ at: new Date(f.apiClosedAt), kind: 'close', badge: 'closed', tone: 'ok', title: 'Closed on FirstPromoter through its API' })
  } else if (f.apiClose === 'failed') {
    entries.push({ at: new Date(f.updatedAt), kind: 'close', badge: 'close failed', tone: 'bad', title: 'The API close failed', detail: f.apiCloseError ?? undefined })
  } else if (f.apiClose === 'pending') {
    entries.push({ at: new Date(f.updatedAt), kind: 'close', badge: 'close due', tone: 'warn', title: 'The API close is due', detail: f.apiCloseError ? `last attempt: ${f.apiCloseError}` : undefined })
  }
  // Stable: equal times keep the order above (delivery, answer, grant, close).
  return entries.map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at.getTime() - b.e.at.getTime() || a.i - b.i)
    .map(({ e }) => e)
}
