import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import fastifyFirstPromoter, { type FastifyFirstPromoterOptions } from '../src/index.js'
import { SECRET, memorySeams } from './helper.js'

// The route's own I/O over in-memory seams: what it quarantines, stores, queues and answers.
// What a body becomes is test/to-delivery.test.ts.

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../testing/fixtures/${name}`, import.meta.url), 'utf8'))
const URL_OK = `/webhooks/firstpromoter/${SECRET}`

async function server (
  t: Test,
  overrides: (seams: ReturnType<typeof memorySeams>) => Partial<FastifyFirstPromoterOptions> = () => ({})
) {
  const lines: string[] = []
  const stream = new Writable({ write (c, _e, cb) { lines.push(c.toString()); cb() } })
  const app = Fastify({ logger: { level: 'info', stream } })
  const seams = memorySeams()
  await app.register(fastifyFirstPromoter, {
    secrets: SECRET,
    store: seams.store,
    dispatcher: seams.dispatcher,
    fulfilmentWaitMs: 0,
    ...overrides(seams)
  })
  t.teardown(() => app.close())
  const post = (payload: string, headers: Record<string, string> = { 'content-type': 'application/json' }, url = URL_OK) =>
    app.inject({ method: 'POST', url, headers, payload })
  return { app, seams, post, logs: () => lines.join('') }
}

t.test('a rejection is quarantined with its reason, field errors, content type and size, then answered', async (t) => {
  const { seams, post, logs } = await server(t, () => ({ quarantineBodyLimit: 20 }))
  const body = JSON.stringify({ event: { id: 1 }, data: { note: 'x'.repeat(40) } })
  const res = await post(body)
  t.equal(res.statusCode, 400)
  t.match(res.json(), { statusCode: 400, code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', error: 'Bad Request', errors: [{ path: '/event/type' }] })
  t.equal(seams.quarantined.length, 1)
  const [entry] = seams.quarantined
  t.match(entry, { reason: /^Invalid webhook envelope: \/event\/type/, statusCode: 400, details: [{ path: '/event/type' }], contentType: 'application/json', bodySize: body.length, bodyTruncated: true })
  t.equal(entry?.body?.length, 20, 'cut at quarantineBodyLimit')
  t.equal(seams.inbox.size, 0, 'nothing stored')
  t.match(logs(), /"level":40.*"code":"FST_FIRSTPROMOTER_INVALID_ENVELOPE".*delivery rejected/)
})

t.test('a body over bodyLimit: 413, quarantined without a body, its size from the header', async (t) => {
  const { seams, post } = await server(t, () => ({ bodyLimit: 100 }))
  const res = await post(JSON.stringify({ event: { id: 1, type: 'lead_signup' }, data: { pad: 'x'.repeat(200) } }))
  t.equal(res.statusCode, 413)
  t.same(res.json(), { statusCode: 413, code: 'FST_FIRSTPROMOTER_BODY_TOO_LARGE', error: 'Payload Too Large', message: 'Body is larger than 100 bytes' })
  t.match(seams.quarantined, [{ statusCode: 413, body: null, bodyTruncated: false, bodySize: Number }])
  t.ok(seams.quarantined[0]!.bodySize > 100)
})

t.test('a wrong secret: 404 before the body is read, the connection closed, nothing kept', async (t) => {
  const { seams, post, logs } = await server(t)
  const res = await post(JSON.stringify(example('lead_signup.json')), { 'content-type': 'application/json' }, '/webhooks/firstpromoter/not-the-secret-at-all-0123')
  t.equal(res.statusCode, 404)
  t.equal(res.headers.connection, 'close')
  t.same(res.json(), { statusCode: 404, code: 'FST_FIRSTPROMOTER_NOT_FOUND', error: 'Not Found', message: 'Not Found' })
  t.same([seams.quarantined.length, seams.inbox.size], [0, 0])
  t.notMatch(logs(), 'not-the-secret-at-all-0123')
})

t.test('another method on the route: the plugin\'s 404, without the URL', async (t) => {
  const { app } = await server(t)
  const res = await app.inject({ method: 'GET', url: URL_OK })
  t.same(res.json(), { statusCode: 404, code: 'FST_FIRSTPROMOTER_NOT_FOUND', error: 'Not Found', message: 'Not Found' })
})

t.test("a framework 4xx keeps Fastify's code, with its reason phrase", async (t) => {
  const { app, seams } = await server(t)
  const res = await app.inject({ method: 'POST', url: URL_OK, headers: { 'content-type': 'application/json', 'content-length': '500' }, payload: '{"a":1}' })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { statusCode: 400, code: 'FST_ERR_CTP_INVALID_CONTENT_LENGTH', error: 'Bad Request' })
  t.equal(seams.inbox.size, 0)
})

t.test('the store fails: 503 with Retry-After; the write is told to stop', async (t) => {
  let signal: AbortSignal | undefined
  const { post, logs } = await server(t, (seams) => ({
    store: { ...seams.store, record: async (_d, o) => { signal = o?.signal; throw new Error('connection refused\nparams: secret stuff') } }
  }))
  const res = await post(JSON.stringify(example('lead_signup.json')))
  t.equal(res.statusCode, 503)
  t.equal(res.headers['retry-after'], '30')
  t.same(res.json(), { statusCode: 503, code: 'FST_FIRSTPROMOTER_STORE_UNAVAILABLE', error: 'Service Unavailable', message: 'Storage is unavailable, try again later' })
  t.equal(signal?.aborted, true)
  t.match(logs(), /store unavailable/)
  t.notMatch(logs(), 'secret stuff', 'only the first line of the error')
})

t.test('the queue fails: the stored event is still answered 200, and left for the sweeper', async (t) => {
  const { seams, post, logs } = await server(t, (seams) => ({
    dispatcher: { ...seams.dispatcher, enqueueEvent: async () => { throw new Error('Redis is down') } }
  }))
  const res = await post(JSON.stringify(example('lead_signup.json')))
  t.equal(res.statusCode, 200)
  t.same(res.json(), { received: true, duplicate: false })
  t.equal(seams.inbox.size, 1)
  t.match(logs(), /"level":40.*Redis is down.*left for the sweeper/)
})

t.test('a duplicate is answered 200 again and queued once', async (t) => {
  const { seams, post } = await server(t)
  const body = JSON.stringify(example('lead_signup.json'))
  t.same((await post(body)).json(), { received: true, duplicate: false })
  t.same((await post(body)).json(), { received: true, duplicate: true })
  t.same(seams.enqueued, ['event-1'])
})

t.test('an error the route did not expect: 500 FST_FIRSTPROMOTER_INTERNAL, its text only in the log', async (t) => {
  const { post, logs } = await server(t, (seams) => ({
    // Not async: it throws on the request path instead of rejecting.
    store: { ...seams.store, noteAnswer: () => { throw new Error('internal detail 42') } }
  }))
  const res = await post(JSON.stringify(example('fulfilment_pending.json')))
  t.equal(res.statusCode, 500)
  t.same(res.json(), { statusCode: 500, code: 'FST_FIRSTPROMOTER_INTERNAL', error: 'Internal Server Error', message: 'Internal Server Error' })
  t.match(logs(), /"level":50.*internal detail 42/)
})

t.test('each delivery sets req.firstpromoterDelivery for the app\'s hooks', async (t) => {
  const seen: unknown[] = []
  const { app, post } = await server(t)
  app.addHook('onResponse', async (req) => { seen.push(req.firstpromoterDelivery) })
  await post(JSON.stringify(example('fulfilment_pending.json')))
  await post('{')
  t.same(seen, [{ eventType: 'fulfilment_pending', eventId: '13007875', fulfilmentId: 2429153, duplicate: false }, null])
})

t.test('a store that lets the grant carry the row and notes the answer when it settles: one job, no second write', async (t) => {
  const grants: Array<{ fulfilmentId: number, inboxId?: number, created?: boolean }> = []
  const settles: Array<{ id: number, answer?: { eventId: string, noteBy: Date } }> = []
  let notes = 0
  const { seams, post } = await server(t, (seams) => ({
    store: {
      ...seams.store,
      async record (delivery) {
        const recorded = await seams.store.record(delivery)
        return { ...recorded, fulfilmentCreated: true, processedWithGrant: true }
      },
      async settleAnswer (id, answer) {
        settles.push({ id, answer })
        return { id, state: 'granted', failureReason: null, noted: true }
      },
      async noteAnswer () { notes++ }
    },
    dispatcher: {
      ...seams.dispatcher,
      async enqueueGrant (job) { grants.push(job) }
    }
  }))
  const res = await post(JSON.stringify(example('fulfilment_pending.json')))
  t.equal(res.statusCode, 200)
  t.match(grants, [{ fulfilmentId: 2429153, unit: 'free_months', amount: 3, created: true, inboxId: 1, ticket: /^[A-Za-z0-9_-]{13,64}$/ }], 'the grant job carries the inbox row')
  t.same(seams.enqueued, [], 'no event job for that row')
  t.match(settles, [{ id: 2429153, answer: { eventId: '13007875', noteBy: Date } }], 'settled with the event id to note')
  const noteBy = settles[0]!.answer!.noteBy.getTime()
  t.ok(noteBy > Date.now() && noteBy <= Date.now() + 2500, 'by half the store timeout (5 s) from the settle')
  t.equal(notes, 0, 'the settle noted the answer: noteAnswer is not called')
})

t.test('a settle that noted nothing (a store without the shortcut) is followed by noteAnswer', async (t) => {
  const { seams, post } = await server(t)
  const res = await post(JSON.stringify(example('fulfilment_pending.json')))
  t.equal(res.statusCode, 200)
  t.same(seams.answers, [{ fulfilmentId: 2429153, statusCode: 200 }])
  t.same(seams.enqueued, ['event-1', 'grant-2429153'], 'its own event job, as for any delivery')
})

t.test('a dispatcher that heard its own job grant: 200 without reading the store, the 200 noted after; the store flushed on close', async (t) => {
  const tickets: Array<string | undefined> = []
  let settles = 0
  let flushed = 0
  const { app, seams, post } = await server(t, (seams) => ({
    fulfilmentWaitMs: 1000,
    store: {
      ...seams.store,
      async settleAnswer (id) { settles++; return seams.store.settleAnswer(id) },
      async flush () { flushed++ }
    },
    dispatcher: {
      ...seams.dispatcher,
      async enqueueGrant (job) { tickets.push(job.ticket) },
      // Only the first request's job is heard granting (with its ticket).
      async waitForGrant (_id, _ms, ticket) { return ticket !== undefined && ticket === tickets[0] ? 'granted' : undefined }
    }
  }))
  const res = await post(JSON.stringify(example('fulfilment_pending.json')))
  t.equal(res.statusCode, 200)
  t.same(res.json(), { fulfilment_id: 2429153, state: 'granted' })
  t.equal(settles, 0, 'the store was not asked')
  t.same(seams.answers, [{ fulfilmentId: 2429153, statusCode: 200 }], 'the 200 is noted')

  const fire = example('fulfilment_pending.json')
  fire.event.id = '13007876'
  const again = await post(JSON.stringify(fire))
  t.equal(again.statusCode, 202, 'a wait that heard nothing of its own: the store answers (still pending there)')
  t.equal(settles, 1)
  t.equal(tickets.length, 2)
  t.not(tickets[0], tickets[1], 'a ticket per request')

  await app.close()
  t.equal(flushed, 1, 'flushed once, on close')
})
