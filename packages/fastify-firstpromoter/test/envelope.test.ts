import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import fastifyFirstPromoter from '../src/index.js'
import { SECRET, memorySeams } from './helper.js'

const example = (name: string) => JSON.parse(readFileSync(new URL(`../../testing/fixtures/${name}`, import.meta.url), 'utf8'))

async function server (t: Test) {
  const lines: string[] = []
  const stream = new Writable({ write (c, _e, cb) { lines.push(c.toString()); cb() } })
  const app = Fastify({ logger: { level: 'info', stream } })
  const seams = memorySeams()
  await app.register(fastifyFirstPromoter, {
    secrets: SECRET,
    store: seams.store,
    dispatcher: seams.dispatcher,
    acceptV2: true,
    fulfilmentWaitMs: 0
  })
  t.teardown(() => app.close())
  const post = (body: unknown) => app.inject({ method: 'POST', url: `/webhooks/firstpromoter/${SECRET}`, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) })
  return { app, seams, post, logs: () => lines.join('') }
}

let nextId = 5000
/** Values of `event.created_at` the receiver cannot use: JavaScript reads some of them as dates. */
const ODD_CREATED_AT: Array<[string, unknown]> = [
  ['a number', 1727963120], ['an object', { at: '2024-10-03' }], ['an array', ['2024-10-03']], ['true', true],
  ['not a date', 'yesterday'], ['year 0', '0000-01-01T00:00:00Z'], ['a negative year', '-000001-01-01T00:00:00Z'],
  ['the last JavaScript date', '+275760-09-13T00:00:00Z'], ['year 10000', '+010000-01-01T00:00:00Z'],
  ['year 1 before UTC', '0001-01-01T00:00:00+01:00']
]

t.test('event.created_at is not relied on: any value is stored, as null when it is not a usable time', async (t) => {
  const { seams, post, logs } = await server(t)
  for (const [label, value] of ODD_CREATED_AT) {
    for (const type of ['lead_signup', 'fulfilment_pending']) {
      const body = example(`${type}.json`)
      body.event.id = ++nextId
      if (type === 'fulfilment_pending') body.data.id = ++nextId
      body.event.created_at = value
      const res = await post(body)
      t.ok(res.statusCode === 200 || res.statusCode === 202, `${type}, created_at ${label}: ${res.statusCode} ${res.body.slice(0, 120)}`)
      const stored = [...seams.inbox.values()].find((d) => d.eventId === String(body.event.id))
      t.ok(stored, `${type}, created_at ${label}: stored`)
      t.equal(stored?.eventCreatedAt, null, `${type}, created_at ${label}: stored without a time`)
    }
  }
  t.match(logs(), /"level":40.*event time is not usable/, 'each is noted in a warn line')
  t.notMatch(logs(), /a@b|@example/, 'the note holds no personal data')

  const good = example('lead_signup.json')
  good.event.id = ++nextId
  good.event.created_at = '9999-12-31T23:59:59.999Z'
  t.equal((await post(good)).statusCode, 200)
  t.same([...seams.inbox.values()].at(-1)?.eventCreatedAt, new Date('9999-12-31T23:59:59.999Z'), 'the last storable time is kept')
})

t.test('the v2 envelope relies on event_id, event_type and data only', async (t) => {
  const { seams, post } = await server(t)
  const base = example('commission.updated.json')
  const variants: Array<[string, (b: Record<string, unknown>) => void]> = [
    ['no action', (b) => { delete b.action }], ['no entity_type', (b) => { delete b.entity_type }],
    ['no entity_id', (b) => { delete b.entity_id }], ['entity_id not an id', (b) => { b.entity_id = '88901x' }],
    ['changes malformed', (b) => { b.changes = { status: ['pending'] } }], ['changes an array', (b) => { b.changes = [] }],
    ['no timestamp', (b) => { delete b.timestamp }], ['timestamp a number', (b) => { b.timestamp = 1727963120 }],
    ['timestamp year 0', (b) => { b.timestamp = '0000-01-01T00:00:00Z' }], ['event_type without a dot', (b) => { b.event_type = 'commission' }],
    ['action an object', (b) => { b.action = { a: 1 } }]
  ]
  for (const [label, mutate] of variants) {
    const body = structuredClone(base)
    body.event_id = `v2-${++nextId}`
    mutate(body)
    const res = await post(body)
    t.equal(res.statusCode, 200, `${label}: 200 (${res.body.slice(0, 120)})`)
    const stored = [...seams.inbox.values()].find((d) => d.eventId === body.event_id)
    t.equal(stored?.source, 'v2', `${label}: stored as v2`)
  }
  t.equal([...seams.inbox.values()].find((d) => d.eventId === `v2-${nextId}`)?.eventCreatedAt?.getTime(), Date.parse(base.timestamp), 'a good timestamp is kept')

  for (const [label, mutate] of [
    ['event_id empty', (b: Record<string, unknown>) => { b.event_id = '' }],
    ['event_id a number', (b: Record<string, unknown>) => { b.event_id = 12 }],
    ['event_type empty', (b: Record<string, unknown>) => { b.event_type = '' }],
    ['no data', (b: Record<string, unknown>) => { delete b.data }],
    ['data an array', (b: Record<string, unknown>) => { b.data = [] }]
  ] as const) {
    const body = structuredClone(base)
    mutate(body)
    const res = await post(body)
    t.equal(res.statusCode, 400, `${label}: refused, it is relied on`)
  }
})
