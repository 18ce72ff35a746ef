import { grantFromLedger, markAttemptFailed, markFailed, setApiClose } from '@fp-webhooks/db'
import t from 'tap'
import type { PauseState } from '../src/index.js'
import { buildConsole, fulfilmentDelivery, uniqueId } from './helper.js'

const rects = (svg: string) => (svg.match(/<rect class="bar/g) ?? []).length

t.test('overview: what needs a human, each with its reason and a Retry; the chart; the backlog', async (t) => {
  const { browser, db, store } = await buildConsole(t)
  const [failed, retrying, closeFailed, fine] = [uniqueId(), uniqueId(), uniqueId(), uniqueId()]
  for (const id of [failed, retrying, closeFailed, fine]) await store.record(fulfilmentDelivery(id))
  await markFailed(db, failed, 'no customer with id user_42')
  await markAttemptFailed(db, retrying, 'billing API answered 503')
  await grantFromLedger(db, closeFailed, true)
  await setApiClose(db, closeFailed, 'failed', 'FirstPromoter answered 401: bad API key')
  await grantFromLedger(db, fine, false)
  await store.quarantine({ reason: 'body is not JSON', statusCode: 400, details: null, contentType: 'application/json', bodySize: 3, body: '{x', bodyTruncated: false })

  await browser.login()
  const page = await browser.get('/admin/console')
  t.equal(page.statusCode, 200)
  const body = page.body
  t.match(body, 'no customer with id user_42')
  t.match(body, 'billing API answered 503')
  t.match(body, 'FirstPromoter answered 401: bad API key')
  t.match(body, `action="/admin/console/fulfilments/${failed}/retry"`)
  t.match(body, `action="/admin/console/fulfilments/${retrying}/retry"`)
  t.match(body, `action="/admin/console/fulfilments/${closeFailed}/retry-close"`)
  t.notMatch(body, `/fulfilments/${fine}/retry`, 'a granted, closed fulfilment needs nobody')

  const charts = body.match(/<svg class="chart chart-(deliveries|grants|failures)"[\s\S]*?<\/svg>/g) ?? []
  t.equal(charts.length, 3, 'three charts')
  for (const svg of charts) t.equal(rects(svg), 48, 'one bar per hour')
  t.match(charts[0], /aria-label="deliveries per hour, last 48 hours: 4 in all"/)
  t.match(charts[1], /aria-label="grants per hour, last 48 hours: 2 in all"/)
  t.match(charts[2], /aria-label="failures per hour, last 48 hours: 3 in all"/)
  t.match(body, /<span class="n">4<\/span> events not yet processed/)
  t.match(body, /<span class="n">1<\/span> fulfilments not yet granted/)
  t.match(body, /<span class="n">\?<\/span> grant jobs waiting/, 'no queues given: unknown')
  t.match(body, /<span class="n">1<\/span> deliveries in quarantine/)
})

t.test("a fulfilment's timeline: each delivery, each answer, the grant, the API close", async (t) => {
  const { browser, db, store } = await buildConsole(t)
  const id = uniqueId()
  const first = `ev-${uniqueId()}`
  const refire = `ev-${uniqueId()}`
  await store.record(fulfilmentDelivery(id, first, 'free_months', 1))
  await store.noteAnswer({ fulfilmentId: id, eventId: first, statusCode: 202, reason: null })
  await grantFromLedger(db, id, true)
  await setApiClose(db, id, 'done')
  await store.record(fulfilmentDelivery(id, refire, 'free_months', 1))
  await store.noteAnswer({ fulfilmentId: id, eventId: refire, statusCode: 200, reason: null })

  await browser.login()
  const page = await browser.get(`/admin/console/fulfilments/${id}`)
  t.equal(page.statusCode, 200)
  const timeline = /<ol class="timeline">([\s\S]*?)<\/ol>/.exec(page.body)?.[1] ?? ''
  const steps = [...timeline.matchAll(/<span class="what">([^<]*)<\/span>/g)].map((m) => m[1])
  t.same(steps, [
    `Delivery received (event ${first})`,
    'Answered 202: still pending: FirstPromoter asks again later',
    'Granted 1 free_months to promoter:' + (id + 1),
    'Closed on FirstPromoter through its API',
    `Delivery received (event ${refire})`,
    'Answered 200: granted: FirstPromoter closes it'
  ])
  t.match(page.body, /<h2>Deliveries <span class="count">2<\/span>/)
  t.match(page.body, /&quot;unit&quot;: &quot;free_months&quot;/, 'the payload, escaped')

  const lookup = await browser.get(`/admin/console/fulfilments?id=${id}`)
  t.equal(lookup.statusCode, 303)
  t.equal(lookup.headers.location, `/admin/console/fulfilments/${id}`)
  const unknown = await browser.get('/admin/console/fulfilments/123')
  t.equal(unknown.statusCode, 404)
  t.match(unknown.body, 'Fulfilment 123 is not recorded')
  t.equal((await browser.get('/admin/console/fulfilments/abc')).statusCode, 400)
})

t.test('retry buttons: through the actions, with what they did on the next page', async (t) => {
  const { browser, calls } = await buildConsole(t, {
    actions: {
      retryFulfilment: async (id) => (id === 1 ? { retried: false, state: 'granted' } : null),
      retryClose: async () => ({ retried: true }),
      resubmit: async () => null
    }
  })
  await browser.login()
  await browser.get('/admin/console')
  const granted = await browser.post('/admin/console/fulfilments/1/retry', { from: 'timeline' })
  t.equal(granted.headers.location, '/admin/console/fulfilments/1?notice=not-retryable&id=1', 'back to the timeline')
  const again = await browser.post('/admin/console/fulfilments/1/retry')
  t.equal(again.headers.location, '/admin/console/?notice=not-retryable&id=1')
  t.match((await browser.get(again.headers.location)).body, 'Fulfilment 1 is granted already: nothing to retry.')
  const missing = await browser.post('/admin/console/fulfilments/2/retry')
  t.match((await browser.get(missing.headers.location)).body, 'fulfilment 2 was not found.')
  const close = await browser.post('/admin/console/fulfilments/3/retry-close')
  t.match((await browser.get(close.headers.location)).body, 'Fulfilment 3: its API close is queued again.')
  t.same(calls, [])
  t.notMatch((await browser.get('/admin/console/?notice=retried&id=<b>x</b>')).body, '<b>x</b>', 'a crafted notice shows no text of its own')
})

t.test('quarantine: reason, field errors and the scrubbed body; resubmit as is or corrected', async (t) => {
  let refuse = false
  const { browser, store, calls } = await buildConsole(t, {
    actions: {
      retryFulfilment: async () => null,
      retryClose: async () => null,
      resubmit: async (id, body) => {
        calls.push(['resubmit', id, body])
        return refuse ? { resubmitted: false, statusCode: 400, answer: { message: 'invalid payload', errors: [{ path: '/data/amount', message: 'must be integer' }] } } : { resubmitted: true, statusCode: 200, answer: { received: true } }
      }
    }
  })
  const body = JSON.stringify({ event: { id: 1, type: 'fulfilment_pending' }, data: { id: 9, amount: 'two', promoter: { auth_token: '[REDACTED]' } } })
  await store.quarantine({ reason: 'invalid payload', statusCode: 400, details: [{ path: '/data/amount', message: 'must be integer' }], contentType: 'application/json', bodySize: body.length, body, bodyTruncated: false })
  await browser.login()
  const page = await browser.get('/admin/console/quarantine')
  t.equal(page.statusCode, 200)
  t.match(page.body, '<p class="reason">invalid payload</p>')
  t.match(page.body, '<code>/data/amount</code> must be integer')
  t.match(page.body, '&quot;auth_token&quot;: &quot;[REDACTED]&quot;')
  const id = Number(/id="q(\d+)"/.exec(page.body)?.[1])

  const asIs = await browser.post(`/admin/console/quarantine/${id}/resubmit`, { mode: 'as-is' })
  t.equal(asIs.statusCode, 303)
  t.match((await browser.get(asIs.headers.location)).body, `Quarantined delivery ${id} was accepted (answered 200).`)
  const corrected = { ...JSON.parse(body), data: { id: 9, amount: 2 } }
  t.equal((await browser.post(`/admin/console/quarantine/${id}/resubmit`, { mode: 'corrected', body: JSON.stringify(corrected) })).statusCode, 303)
  t.same(calls, [['resubmit', id, undefined], ['resubmit', id, corrected]], 'as is, then the parsed correction')

  const notJson = await browser.post(`/admin/console/quarantine/${id}/resubmit`, { mode: 'corrected', body: '{"data": ' })
  t.equal(notJson.statusCode, 400)
  t.match(notJson.body, 'the corrected body is not JSON')
  t.match(notJson.body, '{&quot;data&quot;: </textarea>', 'the draft is kept')
  t.equal(calls.length, 2, 'nothing sent')

  refuse = true
  const refused = await browser.post(`/admin/console/quarantine/${id}/resubmit`, { mode: 'as-is' })
  t.equal(refused.statusCode, 422)
  t.match(refused.body, `Delivery ${id} was refused again (answered 400): invalid payload: /data/amount must be integer`)
})

t.test('events: by type, id, state and time, newest first, with processing state; keyset pages', async (t) => {
  const { browser, store, sql } = await buildConsole(t)
  const event = (eventId: string, eventType: string) => ({ source: 'v1' as const, eventId, eventType, eventCreatedAt: null, dedupeKey: null, payload: { event: { id: eventId } } })
  for (let i = 0; i < 55; i++) await store.record(event(`lead-${i}`, 'lead_signup'))
  await store.record(event('promo-1', 'promoter_accepted'))
  await store.record(fulfilmentDelivery(4242, 'ful-1'))
  await sql`update webhook_events set state = 'failed', last_error = 'projection failed: bad date' where event_id = 'promo-1'`
  await sql`update webhook_events set received_at = '2020-01-01T10:00:00Z' where event_id = 'lead-0'`
  await browser.login()

  const all = await browser.get('/admin/console/events')
  t.equal(all.statusCode, 200)
  t.equal((all.body.match(/<tr>\s*<td class="num">/g) ?? []).length, 50, 'a page of 50')
  const next = /href="([^"]+)" rel="next"/.exec(all.body)?.[1]?.replace(/&amp;/g, '&')
  t.ok(next, 'a link to older events')
  const older = await browser.get(next!)
  t.equal((older.body.match(/<tr>\s*<td class="num">/g) ?? []).length, 7)
  t.notMatch(older.body, 'rel="next"', 'the last page')
  t.match(older.body, '<code>lead-0</code>', 'the oldest last')

  const failed = await browser.get('/admin/console/events?state=failed')
  t.match(failed.body, 'projection failed: bad date')
  t.equal((failed.body.match(/<tr>\s*<td class="num">/g) ?? []).length, 1)
  const byId = await browser.get('/admin/console/events?id=ful-1')
  t.match(byId.body, 'href="/admin/console/fulfilments/4242"', 'a fulfilment links to its timeline')
  t.equal((byId.body.match(/<tr>\s*<td class="num">/g) ?? []).length, 1)
  const byType = await browser.get('/admin/console/events?type=promoter_accepted')
  t.equal((byType.body.match(/<tr>\s*<td class="num">/g) ?? []).length, 1)
  t.match(byType.body, '<option value="promoter_accepted" selected>')
  const byTime = await browser.get('/admin/console/events?from=2019-12-31T00:00&to=2020-01-02T00:00')
  t.equal((byTime.body.match(/<tr>\s*<td class="num">/g) ?? []).length, 1)
  t.match(byTime.body, '<code>lead-0</code>')
  t.equal((await browser.get('/admin/console/events?state=bogus')).statusCode, 400)

  const inboxId = /href="\/admin\/console\/events\/(\d+)"/.exec(byId.body)?.[1]
  const one = await browser.get(`/admin/console/events/${inboxId}`)
  t.equal(one.statusCode, 200)
  t.match(one.body, '&quot;id&quot;: &quot;ful-1&quot;')
  t.equal((await browser.get('/admin/console/events/999999999')).statusCode, 404)
})

t.test('the pause switch: no banner without one; with one, the banner and its buttons', async (t) => {
  const without = await buildConsole(t)
  await without.browser.login()
  t.notMatch((await without.browser.get('/admin/console')).body, 'pause-banner')
  t.equal((await without.browser.post('/admin/console/grants/pause')).statusCode, 404, 'no switch')

  let state: PauseState = { all: false, units: [] }
  const changes: unknown[] = []
  const { browser } = await buildConsole(t, {
    pauses: {
      status: async () => state,
      pause: async (o) => { changes.push(['pause', o]); state = { all: true, units: [], since: new Date('2030-01-01T00:00:00Z'), by: o.by } },
      resume: async (o) => { changes.push(['resume', o]); state = { all: false, units: [] } }
    }
  })
  await browser.login()
  t.match((await browser.get('/admin/console')).body, 'Grants are running.')
  const paused = await browser.post('/admin/console/grants/pause')
  t.equal(paused.statusCode, 303)
  const page = await browser.get('/admin/console/events')
  t.match(page.body, /class="pause-banner paused"/, 'on every page')
  t.match(page.body, 'Grants are paused.')
  t.match(page.body, /Paused by console session \S+ from 127\.0\.0\.1 since 2030-01-01 00:00:00 UTC/)
  t.equal((await browser.post('/admin/console/grants/resume', { _csrf: null })).statusCode, 403, 'CSRF applies')
  t.equal((await browser.post('/admin/console/grants/resume')).statusCode, 303)
  t.match(changes, [['pause', { by: /^console session / }], ['resume', { by: /^console session / }]])
})
