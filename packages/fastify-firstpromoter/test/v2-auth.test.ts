import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { Writable } from 'node:stream'
import Fastify from 'fastify'
import t, { type Test } from 'tap'
import fastifyFirstPromoter, { type FastifyFirstPromoterOptions } from '../src/index.js'
import { SECRET, memorySeams } from './helper.js'

const v2 = (name: string) => JSON.parse(readFileSync(new URL(`../../testing/fixtures/v2/${name}`, import.meta.url), 'utf8'))
const v1 = (name: string) => JSON.parse(readFileSync(new URL(`../../testing/fixtures/${name}`, import.meta.url), 'utf8'))

const TOKEN = 'Bearer v2-token-new-0123456789abcdef'
const OLD_TOKEN = 'Bearer v2-token-old-fedcba9876543210'
const WRONG_TOKEN = 'Bearer v2-token-bad-0123456789abcdef'
const PASSWORD = 'basic-pass-new-0123456789'
const OLD_PASSWORD = 'basic-pass-old-9876543210'
const WRONG_PASSWORD = 'basic-pass-bad-0123456789'
const SIGNING = 'signing-secret-new-0123456789'
const OLD_SIGNING = 'signing-secret-old-9876543210'
const WRONG_SIGNING = 'signing-secret-bad-0123456789'

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
const sign = (secret: string, raw: string) => createHmac('sha256', secret).update(raw).digest('hex')

let nextId = 0
/** A v2 fixture with a fresh event id, as its raw text (what a signature covers). */
function freshV2 (name = 'commission.updated.json'): { body: Record<string, unknown>, raw: string } {
  const body = v2(name)
  body.event_id = `auth-${++nextId}`
  return { body, raw: JSON.stringify(body) }
}

async function server (t: Test, options: Partial<FastifyFirstPromoterOptions>) {
  const lines: string[] = []
  const stream = new Writable({ write (c, _e, cb) { lines.push(c.toString()); cb() } })
  const app = Fastify({ logger: { level: 'trace', stream } })
  const seams = memorySeams()
  await app.register(fastifyFirstPromoter, {
    secrets: SECRET,
    store: seams.store,
    dispatcher: seams.dispatcher,
    fulfilmentWaitMs: 0,
    ...options
  })
  t.teardown(() => app.close())
  const post = (raw: string, headers: Record<string, string> = {}, secret = SECRET) =>
    app.inject({ method: 'POST', url: `/webhooks/firstpromoter/${secret}`, headers: { 'content-type': 'application/json', ...headers }, payload: raw })
  return { app, seams, post, logs: () => lines.join('') }
}

type Post = Awaited<ReturnType<typeof server>>['post']

/** What a wrong URL secret gets: the answer every credential failure must be indistinguishable from. */
async function wrongSecretAnswer (post: Post) {
  const res = await post('{}', {}, 'not-the-secret-0123456789')
  t.equal(res.statusCode, 404)
  return { body: res.body, connection: res.headers.connection, type: res.headers['content-type'] }
}

async function refusedLikeWrongSecret (
  t: Test,
  post: Post,
  raw: string,
  headers: Record<string, string>,
  label: string
) {
  const expected = await wrongSecretAnswer(post)
  const res = await post(raw, headers)
  t.equal(res.statusCode, 404, `${label}: 404`)
  t.same({ body: res.body, connection: res.headers.connection, type: res.headers['content-type'] }, expected, `${label}: the same answer as a wrong URL secret`)
}

t.test('a custom header: missing or wrong is a 404 like a wrong secret; the new and the rotated old value pass', async (t) => {
  const { seams, post, logs } = await server(t, { v2AuthHeader: 'Authorization', v2AuthValues: [TOKEN, OLD_TOKEN] })
  for (const [label, headers] of [
    ['no header', {}],
    ['no header, with X-Event-Type', { 'x-event-type': 'commission.updated' }],
    ['a wrong value', { authorization: WRONG_TOKEN }],
    ['the token without its scheme', { authorization: TOKEN.slice('Bearer '.length) }],
    ['a prefix of the value', { authorization: TOKEN.slice(0, -1) }],
    ['the right value under another header', { 'x-authorization': TOKEN }]
  ] as Array<[string, Record<string, string>]>) {
    await refusedLikeWrongSecret(t, post, freshV2().raw, headers, label)
  }
  t.equal(seams.inbox.size, 0, 'nothing stored')
  t.equal(seams.quarantined.length, 0, 'nothing quarantined')

  for (const value of [TOKEN, OLD_TOKEN]) {
    const { body, raw } = freshV2()
    const res = await post(raw, { authorization: value })
    t.equal(res.statusCode, 200, res.body)
    t.ok([...seams.inbox.values()].some((d) => d.eventId === body.event_id), 'stored')
  }
  const refusals = logs().split('\n').filter((l) => l.includes('v2 credentials missing or wrong'))
  t.equal(refusals.length, 6, 'each refusal is logged')
  t.ok(refusals.every((l) => JSON.parse(l).failed.join() === 'header'), 'with the name of the check, for the operator')
})

t.test('a v1 body is never asked for v2 credentials; anything that is not v1 is', async (t) => {
  const { seams, post } = await server(t, { v2AuthHeader: 'x-fp-token', v2AuthValues: TOKEN })
  const res = await post(JSON.stringify(v1('lead_signup.json')))
  t.equal(res.statusCode, 200, 'a v1 delivery as FirstPromoter sends it')
  const eventAndId = { ...v1('lead_signup.json'), event_id: 'x' }
  eventAndId.event.id = 4242
  t.equal((await post(JSON.stringify(eventAndId))).statusCode, 200, 'a body with `event` reads as v1, event_id or not')
  t.equal((await post(JSON.stringify({ event: 'broken' }))).statusCode, 400, 'a broken v1 envelope is refused for its envelope, not for credentials')

  for (const [label, raw, contentType] of [
    ['a test delivery', JSON.stringify(v2('test-delivery.json')), 'application/json'],
    ['a bare test delivery', JSON.stringify(v2('test-delivery-bare.json')), 'application/json'],
    ['a body that is not JSON', '{"event_id": "x", ', 'application/json'],
    ['an empty body', '', 'application/json'],
    ['another content type', 'event_id=x', 'text/plain'],
    ['an array', '[1]', 'application/json'],
    ['an object that is neither', '{"data": {}}', 'application/json']
  ]) {
    await refusedLikeWrongSecret(t, post, raw!, { 'content-type': contentType! }, label!)
  }
  t.equal(seams.quarantined.length, 1, 'only the broken v1 envelope was quarantined')

  const withToken = await post('{"event_id": "x", ', { 'x-fp-token': TOKEN })
  t.equal(withToken.statusCode, 400, 'with the credentials, a body that is not JSON gets its reason')
  t.equal(seams.quarantined.length, 2, 'and is quarantined')
})

t.test('HTTP Basic: right and rotated pairs pass; a wrong password, another user, a header instead, or garbage do not', async (t) => {
  const { seams, post } = await server(t, { v2BasicAuth: `fp-hooks:${PASSWORD},fp-hooks-old:${OLD_PASSWORD}` })
  for (const [label, headers] of [
    ['no credentials', {}],
    ['a wrong password', { authorization: basic('fp-hooks', WRONG_PASSWORD) }],
    ['the old password with the new user', { authorization: basic('fp-hooks', OLD_PASSWORD) }],
    ['a bearer header instead', { authorization: TOKEN }],
    ['not base64', { authorization: 'Basic ***' }],
    ['the pair unencoded', { authorization: `Basic fp-hooks:${PASSWORD}` }]
  ] as Array<[string, Record<string, string>]>) {
    await refusedLikeWrongSecret(t, post, freshV2().raw, headers, label)
  }
  t.equal(seams.inbox.size, 0)
  for (const [user, password] of [['fp-hooks', PASSWORD], ['fp-hooks-old', OLD_PASSWORD]]) {
    const res = await post(freshV2().raw, { authorization: basic(user!, password!) })
    t.equal(res.statusCode, 200, `${user}: ${res.body}`)
  }
  t.equal((await post(freshV2().raw, { authorization: basic('fp-hooks', PASSWORD).replace('Basic', 'basic') })).statusCode, 200, 'the scheme in any case')
})

t.test('a custom header and Basic together: both are needed', async (t) => {
  const { seams, post, logs } = await server(t, { v2AuthHeader: 'x-fp-token', v2AuthValues: TOKEN, v2BasicAuth: [{ user: 'fp-hooks', password: PASSWORD }] })
  await refusedLikeWrongSecret(t, post, freshV2().raw, { 'x-fp-token': TOKEN }, 'only the header sent')
  await refusedLikeWrongSecret(t, post, freshV2().raw, { authorization: basic('fp-hooks', PASSWORD) }, 'only Basic sent')
  await refusedLikeWrongSecret(t, post, freshV2().raw, { 'x-fp-token': WRONG_TOKEN, authorization: basic('fp-hooks', WRONG_PASSWORD) }, 'both wrong')
  t.equal(seams.inbox.size, 0)
  t.equal((await post(freshV2().raw, { 'x-fp-token': TOKEN, authorization: basic('fp-hooks', PASSWORD) })).statusCode, 200)
  const failed = logs().split('\n').filter((l) => l.includes('v2 credentials missing or wrong')).map((l) => JSON.parse(l).failed.join())
  t.same(failed, ['basic', 'header', 'header,basic'], 'every check runs, and the log names the ones that failed')
})

t.test('the signature: off unless configured; then required, over the exact body, with rotation', async (t) => {
  t.test('off: a v2 delivery with no signature, or any, passes', async (t) => {
    const { post } = await server(t, {})
    t.equal((await post(freshV2().raw)).statusCode, 200)
    t.equal((await post(freshV2().raw, { 'x-webhook-signature': 'nonsense' })).statusCode, 200)
  })

  t.test('on: missing, wrong, of another body or by another key is refused', async (t) => {
    const { seams, post } = await server(t, { v2SigningSecrets: [SIGNING, OLD_SIGNING] })
    const { raw } = freshV2()
    for (const [label, headers] of [
      ['no signature', {}],
      ['signed with a wrong key', { 'x-webhook-signature': sign(WRONG_SIGNING, raw) }],
      ['the signature of another body', { 'x-webhook-signature': sign(SIGNING, freshV2().raw) }],
      ['the signature of the body re-serialised', { 'x-webhook-signature': sign(SIGNING, JSON.stringify(JSON.parse(raw), null, 2)) }],
      ['a prefixed signature', { 'x-webhook-signature': `sha256=${sign(SIGNING, raw)}` }]
    ] as Array<[string, Record<string, string>]>) {
      await refusedLikeWrongSecret(t, post, raw, headers, label)
    }
    t.equal(seams.inbox.size, 0)
    // Spaces and line breaks are part of what is signed: the check runs on the raw body, not on the parsed one.
    const spaced = JSON.stringify(JSON.parse(freshV2().raw), null, 2)
    for (const [label, secret, body] of [['the new key', SIGNING, raw], ['the rotated old key', OLD_SIGNING, freshV2().raw], ['a pretty-printed body', SIGNING, spaced]]) {
      const res = await post(body!, { 'x-webhook-signature': sign(secret!, body!) })
      t.equal(res.statusCode, 200, `${label}: ${res.body}`)
    }
    const upper = freshV2().raw
    t.equal((await post(upper, { 'x-webhook-signature': sign(SIGNING, upper).toUpperCase() })).statusCode, 200, 'hex in either case')
    t.equal((await post(JSON.stringify(v1('lead_signup.json')))).statusCode, 200, 'a v1 body is not asked for a signature')
  })
})

t.test('no presented or configured credential appears in a log line, an answer or a quarantine row', async (t) => {
  const { seams, post, logs } = await server(t, {
    v2AuthHeader: 'x-fp-token',
    v2AuthValues: [TOKEN, OLD_TOKEN],
    v2BasicAuth: [`fp-hooks:${PASSWORD}`, `fp-hooks-old:${OLD_PASSWORD}`],
    v2SigningSecrets: [SIGNING, OLD_SIGNING]
  })
  const answers: string[] = []
  const send = async (raw: string, headers: Record<string, string>) => {
    const res = await post(raw, headers)
    answers.push(res.body, JSON.stringify(res.headers))
    return res
  }
  const good = (raw: string) => ({ 'x-fp-token': TOKEN, authorization: basic('fp-hooks', PASSWORD), 'x-webhook-signature': sign(SIGNING, raw) })
  // Refused: every combination of one wrong credential.
  for (const wrong of [{ 'x-fp-token': WRONG_TOKEN }, { authorization: basic('fp-hooks', WRONG_PASSWORD) }, { 'x-webhook-signature': sign(WRONG_SIGNING, 'x') }]) {
    const { raw } = freshV2()
    t.equal((await send(raw, { ...good(raw), ...wrong })).statusCode, 404)
  }
  // Accepted, and rejected for the body with valid credentials: the quarantined body is the body alone.
  const { raw } = freshV2()
  t.equal((await send(raw, good(raw))).statusCode, 200)
  const broken = `{"event_id": "x", "auth": "${TOKEN}"`
  t.equal((await send(broken, good(broken))).statusCode, 400)
  const mismatched = freshV2().raw
  t.equal((await send(mismatched, { ...good(mismatched), 'x-event-id': 'another-id' })).statusCode, 400)
  t.equal(seams.quarantined.length, 2)

  const everything = [logs(), ...answers, JSON.stringify(seams.quarantined), JSON.stringify([...seams.inbox.values()])].join('\n')
  t.ok(logs().length > 1000, 'the logs were captured')
  const values = [
    TOKEN, OLD_TOKEN, WRONG_TOKEN, PASSWORD, OLD_PASSWORD, WRONG_PASSWORD, SIGNING, OLD_SIGNING, WRONG_SIGNING
  ]
  for (const value of values) {
    const token = value.replace(/^Bearer /, '')
    t.notOk(everything.includes(token), `${token.slice(0, 12)}… appears nowhere`)
  }
  for (const [user, password] of [['fp-hooks', PASSWORD], ['fp-hooks', WRONG_PASSWORD]]) {
    t.notOk(everything.includes(Buffer.from(`${user}:${password}`).toString('base64')), 'nor the Basic header it was sent in')
  }
  t.match(seams.quarantined[0]!.body, '"auth": "[REDACTED]"', 'a configured credential inside a body is masked like the URL secret')
})
