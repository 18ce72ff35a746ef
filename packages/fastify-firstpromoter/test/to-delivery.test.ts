import { readFileSync } from 'node:fs'
import t, { type Test } from 'tap'
import type { ParsedBody } from '../src/body.js'
import { droppedEventTime } from '../src/delivery.js'
import { MAX_DEPTH, REDACTED } from '../src/redact.js'
import type { Delivery } from '../src/seams.js'
import { isRejection, toDelivery, type DeliveryOptions, type Rejection } from '../src/to-delivery.js'

const SECRET = 'to-delivery-secret-0123456789'
const options: DeliveryOptions = { secrets: [SECRET], paths: [], personalData: 'keep', acceptV2: false }
const v2On: DeliveryOptions = { ...options, acceptV2: true }

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../testing/fixtures/${name}`, import.meta.url), 'utf8'))
/** What the JSON parser hands the route. */
const json = (value: unknown): ParsedBody => ({ kind: 'json', raw: JSON.stringify(value), value: structuredClone(value) })

function rejected (t: Test, result: Delivery | Rejection): Rejection {
  t.ok(isRejection(result), 'a rejection')
  return result as Rejection
}
function delivered (t: Test, result: Delivery | Rejection): Delivery {
  t.notOk(isRejection(result), isRejection(result) ? `rejected: ${result.error.message}` : 'a delivery')
  return result as Delivery
}

t.test('rejections: each with its error, its field errors and the body quarantine keeps', async (t) => {
  t.test('no body at all', async (t) => {
    const r = rejected(t, toDelivery(undefined, options))
    t.match(r.error, { statusCode: 400, code: 'FST_FIRSTPROMOTER_INVALID_JSON', message: 'Body is not valid JSON: body is empty' })
    t.same([r.fieldErrors, r.body], [null, ''])
  })

  t.test('a content type other than JSON: 415, the raw body kept with its credentials scrubbed', async (t) => {
    const raw = `auth_token=abc123&path=/webhooks/firstpromoter/${SECRET}`
    const r = rejected(t, toDelivery({ kind: 'unsupported', raw, contentType: 'application/x-www-form-urlencoded' }, options))
    t.match(r.error, { statusCode: 415, code: 'FST_FIRSTPROMOTER_UNSUPPORTED_MEDIA_TYPE', message: /got application\/x-www-form-urlencoded$/ })
    t.equal(r.fieldErrors, null)
    t.notMatch(r.body, 'abc123')
    t.notMatch(r.body, SECRET)
    const none = rejected(t, toDelivery({ kind: 'unsupported', raw: '', contentType: '' }, options))
    t.match(none.error.message, /got none$/, 'no content type says so')
    const long = rejected(t, toDelivery({ kind: 'unsupported', raw: '', contentType: 'text/' + 'x'.repeat(500) }, options))
    t.ok(long.error.message.length < 200, 'a long content type is cut')
  })

  t.test('not JSON: the parser\'s reason, the raw body scrubbed', async (t) => {
    const raw = `{"event": {"id": 1}, "auth_token": "abc123", "url": "/x/${SECRET}"`
    const r = rejected(t, toDelivery({ kind: 'invalid-json', raw, reason: 'Unexpected end of JSON input' }, options))
    t.match(r.error, { statusCode: 400, code: 'FST_FIRSTPROMOTER_INVALID_JSON', message: 'Body is not valid JSON: Unexpected end of JSON input' })
    t.equal(r.fieldErrors, null)
    t.notMatch(r.body, 'abc123')
    t.notMatch(r.body, SECRET)
  })

  t.test('nested too deep to redact: an invalid envelope, the raw body scrubbed', async (t) => {
    let deep: unknown = { auth_token: 'abc123' }
    for (let i = 0; i <= MAX_DEPTH; i++) deep = { d: deep }
    const r = rejected(t, toDelivery(json({ event: { id: 1, type: 'lead_signup' }, data: deep }), options))
    t.match(r.error, { statusCode: 400, code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', message: /nested deeper than 64/ })
    t.equal(r.fieldErrors, null)
    t.notMatch(r.body, 'abc123')
  })

  t.test('a broken v1 envelope: the fields at fault, the redacted document kept', async (t) => {
    const body = example('lead_signup.json')
    delete body.event.type
    body.data.auth_token = 'abc123'
    body.data.note = `see /webhooks/firstpromoter/${SECRET}`
    const r = rejected(t, toDelivery(json(body), options))
    t.match(r.error, { statusCode: 400, code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', message: /^Invalid webhook envelope: \/event\/type: / })
    t.match(r.fieldErrors, [{ path: '/event/type' }])
    const kept = JSON.parse(r.body!)
    t.equal(kept.data.auth_token, REDACTED, 'redacted before it is kept')
    t.notMatch(r.body, SECRET)
    t.equal(kept.data.id, body.data.id, 'the rest as sent')
  })

  t.test('JSON that is no envelope at all', async (t) => {
    for (const value of [[], 'text', 42, null, { data: {} }]) {
      const r = rejected(t, toDelivery(json(value), options))
      t.equal(r.error.code, 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', JSON.stringify(value))
      t.ok(r.fieldErrors!.length > 0, `${JSON.stringify(value)}: says which field`)
      t.equal(r.body, JSON.stringify(value))
    }
  })

  t.test('fulfilment_pending without what a grant needs', async (t) => {
    const body = example('fulfilment_pending.json')
    delete body.data.amount
    body.data.unit = ''
    const r = rejected(t, toDelivery(json(body), options))
    t.match(r.error, { statusCode: 400, code: 'FST_FIRSTPROMOTER_INVALID_FULFILMENT', message: /^Invalid fulfilment_pending data: \/data\// })
    t.same(r.fieldErrors!.map((e) => e.path).sort(), ['/data/amount', '/data/unit'])
    t.equal(JSON.parse(r.body!).data.promoter.auth_token, REDACTED)
  })

  t.test('a broken v2 envelope, when v2 is accepted', async (t) => {
    const body = example('commission.updated.json')
    body.event_id = ''
    const r = rejected(t, toDelivery(json(body), v2On))
    t.match(r.error, { statusCode: 400, code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', message: /\/event_id/ })
    t.match(r.fieldErrors, [{ path: '/event_id' }])
  })

  t.test('a v2 body when v2 is turned off: refused with a reason that says so, the body kept', async (t) => {
    for (const name of ['commission.updated.json', 'test-delivery.json', 'test-delivery-bare.json']) {
      const body = example(`v2/${name}`)
      const r = rejected(t, toDelivery(json(body), options))
      t.match(r.error, { statusCode: 400, code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', message: /v2 envelope.*accepts v1 only \(acceptV2 is off\)/ }, name)
      t.same(JSON.parse(r.body!), body, `${name}: kept for quarantine`)
    }
    const onlyType = rejected(t, toDelivery(json({ event_type: 'promoter.created', data: {} }), options))
    t.match(onlyType.error.message, /acceptV2 is off/, 'event_type alone is enough to tell')
  })

  t.test('a v2 body whose X-Event-Id disagrees with its event_id', async (t) => {
    const body = example('v2/commission.updated.json')
    for (const header of ['another-id', `${body.event_id} `.repeat(2)]) {
      const r = rejected(t, toDelivery(json(body), v2On, { eventId: header }))
      t.match(r.error, { statusCode: 400, code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', message: 'Invalid webhook envelope: the X-Event-Id header does not match event_id' })
      t.same(r.fieldErrors, [{ path: '/event_id', message: 'must equal the X-Event-Id header' }])
      t.notMatch(r.error.message, 'another-id', 'neither id is echoed')
      t.same(JSON.parse(r.body!).event_id, body.event_id, 'the body is kept for quarantine')
    }
    const test = example('v2/test-delivery.json')
    t.match(rejected(t, toDelivery(json(test), v2On, { eventId: 'another-id' })).error.message, /X-Event-Id/, 'a test delivery too')
  })

  t.test('a v2 body that is neither an envelope nor a test: the missing field named', async (t) => {
    const r = rejected(t, toDelivery(json({ event_type: 'promoter.created', data: {} }), v2On))
    t.match(r.fieldErrors, [{ path: '/event_id' }])
  })
})

t.test('deliveries: each kind, redacted, built from the parsed document itself', async (t) => {
  t.test('an ordinary v1 event', async (t) => {
    const body = example('reward_created.json')
    body.data.promoter = { id: 7, auth_token: 'abc123' }
    body.data.note = `from /webhooks/firstpromoter/${SECRET}`
    const parsed = json(body)
    const d = delivered(t, toDelivery(parsed, options))
    t.same({ ...d, payload: undefined }, {
      source: 'v1', eventId: '22737431', eventType: 'reward_created', eventCreatedAt: new Date(body.event.created_at), dedupeKey: null, payload: undefined
    })
    t.notOk('fulfilment' in d, 'no fulfilment')
    t.equal(d.payload, (parsed as { value: unknown }).value, 'the parsed document, not a copy')
    const payload = d.payload as typeof body
    t.equal(payload.data.promoter.auth_token, REDACTED)
    t.equal(payload.data.note, `from /webhooks/firstpromoter/${REDACTED}`)
  })

  t.test('the two first-payment events of a lead share a dedupe key', async (t) => {
    const keys = ['new_customer', 'lead_becomes_referral'].map((type) => {
      const body = example('new_customer.json')
      body.event.type = type
      return delivered(t, toDelivery(json(body), options)).dedupeKey
    })
    t.same(keys, ['v1:first_payment:lead:21381518', 'v1:first_payment:lead:21381518'])
  })

  t.test('a type FirstPromoter does not document is a delivery too', async (t) => {
    const d = delivered(t, toDelivery(json({ event: { id: '9001', type: 'something_new' }, data: { anything: [1] } }), options))
    t.same([d.source, d.eventId, d.eventType, d.eventCreatedAt, d.dedupeKey], ['v1', '9001', 'something_new', null, null])
  })

  t.test('an ordinary event whose data differs from the docs is not refused', async (t) => {
    const body = example('reward_created.json')
    body.data.amount = 'lots'
    body.data.lead = null
    t.equal(delivered(t, toDelivery(json(body), options)).eventType, 'reward_created')
  })

  t.test('fulfilment_pending carries the grant\'s facts; the e-mail only when personal data is kept', async (t) => {
    const body = example('fulfilment_pending.json')
    const kept = delivered(t, toDelivery(json(body), options))
    t.same(kept.fulfilment, {
      id: 2429153, unit: 'free_months', amount: 3, beneficiary: 'promoter:5272969', promoterId: 5272969, custId: null, promoterEmail: 'promoter@example.com'
    })
    t.equal((kept.payload as typeof body).data.promoter.auth_token, REDACTED)

    const dropped = delivered(t, toDelivery(json(body), { ...options, personalData: 'drop' }))
    t.equal(dropped.fulfilment?.promoterEmail, null)
    t.equal((dropped.payload as typeof body).data.promoter.email, REDACTED)
    t.equal(dropped.fulfilment?.id, 2429153, 'ids stay')
  })

  t.test('configured paths are masked', async (t) => {
    const body = example('fulfilment_pending.json')
    const d = delivered(t, toDelivery(json(body), { ...options, paths: [['data', 'promoter', 'profile', 'first_name']] }))
    t.equal((d.payload as typeof body).data.promoter.profile.first_name, REDACTED)
  })

  t.test('a v2 event, when v2 is accepted', async (t) => {
    const body = example('commission.updated.json')
    body.data.auth_token = 'abc123'
    const d = delivered(t, toDelivery(json(body), v2On))
    t.same([d.source, d.eventId, d.eventType, d.eventCreatedAt, d.dedupeKey], ['v2', body.event_id, 'commission.updated', new Date(body.timestamp), null])
    t.equal((d.payload as typeof body).data.auth_token, REDACTED)
    t.notOk('fulfilment' in d, 'stored, not granted')
  })

  t.test('a v2 event agreeing with X-Event-Id, or without it (an empty header counts as none)', async (t) => {
    const body = example('v2/commission.updated.json')
    for (const eventId of [body.event_id, ` ${body.event_id} `, '', undefined]) {
      t.equal(delivered(t, toDelivery(json(body), v2On, { eventId })).eventId, body.event_id)
    }
  })

  t.test('a test delivery: marked, with the id of the body, else of X-Event-Id, else of its content', async (t) => {
    const full = example('v2/test-delivery.json')
    const d = delivered(t, toDelivery(json(full), v2On, { eventId: full.event_id }))
    t.same([d.source, d.eventId, d.eventType, d.test, d.eventCreatedAt], ['v2', full.event_id, 'commission.updated', true, new Date(full.timestamp)])
    t.notOk('fulfilment' in d)

    const bare = example('v2/test-delivery-bare.json')
    const fromHeader = delivered(t, toDelivery(json(bare), v2On, { eventId: 'header-id-1' }))
    t.same([fromHeader.eventId, fromHeader.eventType, fromHeader.test], ['header-id-1', 'test', true])
    const a = delivered(t, toDelivery(json(bare), v2On))
    const b = delivered(t, toDelivery(json(structuredClone(bare)), v2On))
    t.match(a.eventId, /^test-[0-9a-f]{32}$/)
    t.equal(a.eventId, b.eventId, 'the same test twice has one id (stored once)')
    t.not(delivered(t, toDelivery(json({ data: { test: true, n: 2 } }), v2On)).eventId, a.eventId, 'another test has another')

    const odd = delivered(t, toDelivery(json({ event_id: 12, event_type: '', data: { test: true }, timestamp: 'soon' }), v2On))
    t.same([odd.test, odd.eventType, odd.eventCreatedAt], [true, 'test', null], 'nothing else in a test is relied on')
  })

  t.test('a body with v1\'s `event` is v1, even with an `event_id`', async (t) => {
    const body = { ...example('lead_signup.json'), event_id: 'x' }
    t.equal(delivered(t, toDelivery(json(body), v2On)).source, 'v1')
  })
})

t.test('serialises the document only to quarantine it', async (t) => {
  const stringify = t.capture(JSON, 'stringify')
  const event = json(example('reward_created.json'))
  const fulfilment = json(example('fulfilment_pending.json'))
  const broken = json({ event: { id: 1 }, data: {} })
  stringify()
  delivered(t, toDelivery(event, options))
  delivered(t, toDelivery(fulfilment, options))
  t.equal(stringify().length, 0, 'a delivery: never')
  rejected(t, toDelivery(broken, options))
  t.equal(stringify().length, 1, 'a rejection: once')
})

t.test('droppedEventTime: which sent time a delivery is stored without', async (t) => {
  const v1 = example('lead_signup.json')
  t.equal(droppedEventTime(delivered(t, toDelivery(json(v1), options))), null, 'a usable time')
  t.same(droppedEventTime(delivered(t, toDelivery(json({ ...v1, event: { ...v1.event, created_at: 1727963120 } }), options))), { field: 'event.created_at', sent: 'number' })
  t.same(droppedEventTime(delivered(t, toDelivery(json({ ...v1, event: { ...v1.event, created_at: ['x'] } }), options))), { field: 'event.created_at', sent: 'array' })
  t.equal(droppedEventTime(delivered(t, toDelivery(json({ ...v1, event: { id: 1, type: 'lead_signup' } }), options))), null, 'none sent')
  const v2 = example('commission.updated.json')
  t.same(droppedEventTime(delivered(t, toDelivery(json({ ...v2, timestamp: '0000-01-01T00:00:00Z' }), v2On))), { field: 'timestamp', sent: 'string' })
  t.equal(droppedEventTime(delivered(t, toDelivery(json({ ...v2, timestamp: null }), v2On))), null, 'null sent')
})
