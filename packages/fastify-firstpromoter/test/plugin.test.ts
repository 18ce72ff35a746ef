import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import Fastify, { type FastifyInstance } from 'fastify'
import t, { type Test } from 'tap'
import fastifyFirstPromoter from '../src/index.js'
import { SECRET, memorySeams } from './helper.js'

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../testing/fixtures/${name}`, import.meta.url), 'utf8'))

async function existingServer (t: Test, grant?: Parameters<typeof memorySeams>[0]) {
  const lines: string[] = []
  const stream = new Writable({ write (c, _e, cb) { lines.push(c.toString()); cb() } })
  const app = Fastify({ logger: { level: 'info', stream } })
  // The team's own routes, registered before and after the plugin, keep their behaviour.
  app.post('/api/things', async (req) => ({ got: req.body }))
  const seams = memorySeams(grant)
  let decorator: FastifyInstance['firstpromoter'] | undefined
  // Registered inside a prefixed scope of the app: the decorator lives in that scope.
  await app.register(async (scope) => {
    await scope.register(fastifyFirstPromoter, { secrets: [SECRET], store: seams.store, dispatcher: seams.dispatcher, prefix: '/fp', fulfilmentWaitMs: 0 })
    decorator = scope.firstpromoter
  }, { prefix: '/hooks' })
  await app.ready()
  t.teardown(() => app.close())
  return { app, fp: decorator!, seams, logs: () => lines.join('') }
}

const post = (app: ReturnType<typeof Fastify>, url: string, body: unknown) =>
  app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })

t.test('registers in an existing server under its prefix without touching other routes', async (t) => {
  const { app, fp, seams, logs } = await existingServer(t)
  const res = await post(app, `/hooks/fp/${SECRET}`, example('lead_signup.json'))
  t.equal(res.statusCode, 200)
  t.same(res.json(), { received: true, duplicate: false })
  t.equal(seams.inbox.size, 1)
  t.same(seams.enqueued, ['event-1'])
  t.equal(fp.prefix, '/hooks/fp')
  const own = await post(app, '/api/things', { a: 1 })
  t.same(own.json(), { got: { a: 1 } }, "the app's own JSON parser is untouched")
  t.notMatch(logs(), SECRET)
  t.match(logs(), '/hooks/fp/[REDACTED]')
})

t.test('the status-code protocol over a store of your own', async (t) => {
  const outcomes = new Map<number, 'granted' | 'failed' | 'pending'>()
  const { app, seams } = await existingServer(t, async (id) => outcomes.get(id) ?? 'granted')
  const delivery = (id: number, eventId: number) => {
    const body = example('fulfilment_pending.json')
    body.data.id = id
    body.event.id = eventId
    return post(app, `/hooks/fp/${SECRET}`, body)
  }
  outcomes.set(1, 'granted')
  outcomes.set(2, 'pending')
  outcomes.set(3, 'failed')
  t.equal((await delivery(1, 101)).statusCode, 200)
  const pending = await delivery(2, 102)
  t.equal(pending.statusCode, 202)
  t.same(pending.json(), { fulfilment_id: 2, state: 'pending' })
  const failed = await delivery(3, 103)
  t.equal(failed.statusCode, 422)
  t.match(failed.json(), { code: 'FST_FIRSTPROMOTER_FULFILMENT_FAILED', message: /test says no/ })
  outcomes.set(2, 'granted')
  t.equal((await delivery(2, 104)).statusCode, 200, 'the re-fire after the grant gets 200')
  await new Promise((resolve) => setImmediate(resolve))
  t.same(seams.answers.map((a) => [a.fulfilmentId, a.statusCode]), [[1, 200], [2, 202], [3, 422], [2, 200]])
})

t.test('the decorator registers no handlers: they run in the worker, declared in the definition module', async (t) => {
  const { fp } = await existingServer(t)
  t.same(Object.keys(fp), ['prefix'], 'only the route prefix; nothing that looks like it registers a handler')
  t.equal(fp.prefix, '/hooks/fp')
  const seams = memorySeams()
  const app = Fastify()
  t.teardown(() => app.close())
  const options = { secrets: [SECRET], store: seams.store, dispatcher: seams.dispatcher, handlers: {} }
  await t.rejects(async () => { await app.register(fastifyFirstPromoter, options as never).ready() }, { code: 'FST_FIRSTPROMOTER_OPTIONS', message: /handlers is no longer an option.*defineFirstPromoter/ })
})

t.test('v2 envelopes are accepted by default; with acceptV2 false they are refused and quarantined', async (t) => {
  const body = example('commission.updated.json')
  const { app, seams } = await existingServer(t)
  const res = await post(app, `/hooks/fp/${SECRET}`, body)
  t.equal(res.statusCode, 200, res.body)
  const stored = [...seams.inbox.values()][0]!
  t.same([stored.source, stored.eventId, stored.eventType], ['v2', body.event_id, 'commission.updated'])

  const off = memorySeams()
  const v1Only = Fastify()
  await v1Only.register(fastifyFirstPromoter, {
    secrets: SECRET,
    store: off.store,
    dispatcher: off.dispatcher,
    acceptV2: false
  })
  t.teardown(() => v1Only.close())
  const refused = await post(v1Only, `/webhooks/firstpromoter/${SECRET}`, body)
  t.equal(refused.statusCode, 400)
  t.match(refused.json(), { code: 'FST_FIRSTPROMOTER_INVALID_ENVELOPE', message: /accepts v1 only \(acceptV2 is off\)/ })
  t.equal(off.inbox.size, 0)
  t.equal(off.quarantined.length, 1, 'kept for a human')
  t.equal(JSON.parse(off.quarantined[0]!.body!).event_id, body.event_id)
})

t.test('a fulfilment answered 422 is logged at warn, with its reason and without personal data', async (t) => {
  const { app, logs } = await existingServer(t, async () => 'failed')
  const body = example('fulfilment_pending.json')
  body.data.id = 77
  body.event.id = 177
  const res = await post(app, `/hooks/fp/${SECRET}`, body)
  t.equal(res.statusCode, 422)
  const line = logs().split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((l) => l.fulfilmentId === 77 && l.answer === 422)
  t.equal(line?.level, 40, 'at warn: a human must act')
  t.equal(line?.reason, 'test says no', 'with the reason')
  t.notMatch(logs(), body.data.promoter.email, 'no e-mail address')
})

t.test("a store's error is logged without the query parameters it may repeat", async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (c, _e, cb) { lines.push(c.toString()); cb() } })
  const app = Fastify({ logger: { level: 'info', stream } })
  const seams = memorySeams()
  // What Drizzle throws for a failed query: the SQL, then every parameter, then the cause.
  const failed = () => Object.assign(new Error('Failed query: insert into quarantine (body) values ($1)\nparams: {"email":"lead@example.com"}'), {
    cause: Object.assign(new Error('canceling statement due to statement timeout'), { code: '57014' })
  })
  const store = { ...seams.store, record: async () => { throw failed() }, quarantine: async () => { throw failed() } }
  await app.register(fastifyFirstPromoter, { secrets: SECRET, store, dispatcher: seams.dispatcher })
  t.teardown(() => app.close())
  t.equal((await post(app, `/webhooks/firstpromoter/${SECRET}`, example('lead_signup.json'))).statusCode, 503)
  t.equal((await post(app, `/webhooks/firstpromoter/${SECRET}`, { event: { id: 1 }, data: {} })).statusCode, 400)
  const text = lines.join('')
  t.notMatch(text, 'lead@example.com', 'no parameter in the log')
  t.notMatch(text, 'params:')
  t.match(text, /canceling statement due to statement timeout \(57014\)/, 'the cause and its code are kept')
  t.match(text, /could not quarantine/)
})
