/*
 * What an action did, shown on the page it redirects to. The redirect carries a code and numbers
 * only (`?notice=retried&id=12`): the text is ours, so a crafted link cannot put words on the page.
 */

export type NoticeTone = 'ok' | 'warn' | 'bad'
export interface Notice { tone: NoticeTone, text: string }

const NOTICES: Record<string, (id: string, status: string) => Notice> = {
  retried: (id) => ({ tone: 'ok', text: `Fulfilment ${id}: its grant is queued again.` }),
  'not-retryable': (id) => ({ tone: 'warn', text: `Fulfilment ${id} is granted already: nothing to retry.` }),
  'close-retried': (id) => ({ tone: 'ok', text: `Fulfilment ${id}: its API close is queued again.` }),
  'close-not-failed': (id) => ({ tone: 'warn', text: `Fulfilment ${id}: its API close has not failed, nothing to retry.` }),
  resubmitted: (id, status) => ({ tone: 'ok', text: `Quarantined delivery ${id} was accepted (answered ${status}).` }),
  'no-body': (id) => ({ tone: 'warn', text: `Quarantined delivery ${id} kept no body (it was too large): send a corrected body.` }),
  'not-found': (id) => ({ tone: 'bad', text: `${id} was not found.` }),
  paused: () => ({ tone: 'warn', text: 'Grants are paused.' }),
  resumed: () => ({ tone: 'ok', text: 'Grants are resumed.' }),
  'logged-out': () => ({ tone: 'ok', text: 'Logged out.' })
}

/** The notice of a redirect's query, or null for an unknown code. */
export function noticeFrom (query: { notice?: unknown, id?: unknown, status?: unknown }): Notice | null {
  const make = typeof query.notice === 'string' ? NOTICES[query.notice] : undefined
  if (!make) return null
  const number = (v: unknown) => (typeof v === 'string' && /^\d{1,15}$/.test(v) ? v : '?')
  const id = query.notice === 'not-found' && typeof query.id === 'string' && /^(fulfilment|quarantined delivery|event) \d{1,15}$/.test(query.id) ? query.id : number(query.id)
  return make(id, number(query.status))
}

/** The query string of a notice, for a redirect. */
export function noticeQuery (notice: string, fields: Record<string, string | number> = {}): string {
  return `?${new URLSearchParams({ notice, ...Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, String(v)])) }).toString()}`
}
