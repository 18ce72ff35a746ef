import { createHmac } from 'node:crypto'
import { ConfigError } from '@fp-webhooks/config'
import { fixture as example } from '@fp-webhooks/testing'
import t from 'tap'
import { loadApiConfig } from '../src/config.js'
import { SECRET, build, fixture, post } from './helper.js'

const v2 = (name: string) => example(`v2/${name}`)

const TOKEN = 'api-v2-token-new-0123456789'
const OLD_TOKEN = 'api-v2-token-old-9876543210'
const WRONG_TOKEN = 'api-v2-token-bad-0123456789'
const PASSWORD = 'api-basic-pass-new-012345'
const OLD_PASSWORD = 'api-basic-pass-old-987654'
const WRONG_PASSWORD = 'api-basic-pass-bad-012345'
const SIGNING = 'api-signing-secret-new-0123'
const WRONG_SIGNING = 'api-signing-secret-bad-0123'

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`
let nextId = 0
const event = () => ({ ...v2('commission.updated.json'), event_id: `api-auth-${++nextId}` })

t.test('through the api: the v2 credentials from the environment, each variant answered as documented', async (t) => {
  const app = await build(t, {
    env: {
      FP_V2_AUTH_HEADER: 'Authorization',
      FP_V2_AUTH_VALUES: `Bearer ${TOKEN},Bearer ${OLD_TOKEN}`,
      FP_V2_BASIC_AUTH: ''
    }
  })
  const wrongSecret = await post(app.server, event(), { url: '/webhooks/firstpromoter/not-the-secret-0123456789' })
  t.equal(wrongSecret.statusCode, 404)
  const answers: string[] = []
  const send = async (body: unknown, headers: Record<string, string>) => {
    const res = await post(app.server, body, { headers })
    answers.push(res.body, JSON.stringify(res.headers))
    return res
  }
  for (const [label, headers] of [
    ['no header', {}],
    ['no header, X-Event-Type sent', { 'x-event-type': 'commission.updated' }],
    ['a wrong value', { authorization: `Bearer ${WRONG_TOKEN}` }],
    ['Basic instead', { authorization: basic('fp', PASSWORD) }]
  ] as Array<[string, Record<string, string>]>) {
    const res = await send(event(), headers)
    t.equal(res.statusCode, 404, label)
    t.equal(res.body, wrongSecret.body, `${label}: the body of a wrong URL secret`)
  }
  t.equal((await send(event(), { authorization: `Bearer ${TOKEN}` })).statusCode, 200, 'the current value')
  t.equal((await send(event(), { authorization: `Bearer ${OLD_TOKEN}` })).statusCode, 200, 'the rotated old value')
  t.equal((await send(fixture('lead_signup.json'), {})).statusCode, 200, 'a v1 delivery needs none')
  t.equal((await app.sql`select count(*)::int as n from webhook_events`)[0]!.n, 3)
  t.equal((await app.sql`select count(*)::int as n from quarantine`)[0]!.n, 0, 'nothing quarantined for a refusal')

  const logText = app.logs.text()
  t.equal(app.logs.lines.filter((l) => l.includes('v2 credentials missing or wrong')).length, 4, 'each refusal logged')
  for (const value of [TOKEN, OLD_TOKEN, WRONG_TOKEN, PASSWORD, basic('fp', PASSWORD)]) {
    t.notOk(logText.includes(value), `the logs hold no ${value.slice(0, 14)}…`)
    t.notOk(answers.join('\n').includes(value), 'nor an answer')
  }
})

t.test('through the api: Basic with rotation and a signature; quarantine keeps no credential', async (t) => {
  const app = await build(t, {
    env: {
      FP_V2_BASIC_AUTH: `fp-hooks:${PASSWORD},fp-hooks-old:${OLD_PASSWORD}`,
      FP_V2_SIGNING_SECRETS: SIGNING
    }
  })
  const signed = (raw: string, secret = SIGNING) => createHmac('sha256', secret).update(raw).digest('hex')
  const send = (raw: string, headers: Record<string, string>) => post(app.server, raw, { headers })
  const raw = JSON.stringify(event())
  t.equal((await send(raw, { authorization: basic('fp-hooks', WRONG_PASSWORD), 'x-webhook-signature': signed(raw) })).statusCode, 404, 'a wrong Basic password')
  t.equal((await send(raw, { authorization: basic('fp-hooks', PASSWORD) })).statusCode, 404, 'no signature')
  t.equal((await send(raw, { authorization: basic('fp-hooks', PASSWORD), 'x-webhook-signature': signed(raw, WRONG_SIGNING) })).statusCode, 404, 'a wrong signature')
  t.equal((await send(raw, { authorization: basic('fp-hooks', PASSWORD), 'x-webhook-signature': signed(raw) })).statusCode, 200, 'right Basic, right signature')
  const old = JSON.stringify(event())
  t.equal((await send(old, { authorization: basic('fp-hooks-old', OLD_PASSWORD), 'x-webhook-signature': signed(old) })).statusCode, 200, 'the rotated old pair')
  // Authenticated but broken, with the credentials inside the body as well: quarantined, masked.
  const broken = `{"event_id": "x", "note": "${PASSWORD}", "sig": "${SIGNING}"`
  t.equal((await send(broken, { authorization: basic('fp-hooks', PASSWORD), 'x-webhook-signature': signed(broken) })).statusCode, 400)

  const quarantined = await app.sql`select reason, details, body from quarantine`
  t.equal(quarantined.length, 1)
  const stored = JSON.stringify(quarantined) + JSON.stringify(await app.sql`select payload from webhook_events`)
  const logText = app.logs.text()
  for (const value of [PASSWORD, OLD_PASSWORD, WRONG_PASSWORD, SIGNING, WRONG_SIGNING, basic('fp-hooks', PASSWORD), basic('fp-hooks', WRONG_PASSWORD), signed(raw)]) {
    t.notOk(stored.includes(value), `no stored row holds ${value.slice(0, 14)}…`)
    t.notOk(logText.includes(value), `no log line holds ${value.slice(0, 14)}…`)
  }
})

t.test('the variables are checked at start, naming the variable and never the value', async (t) => {
  const base = { FP_WEBHOOK_SECRET: SECRET }
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ FP_V2_AUTH_HEADER: 'x-fp-token' }, /FP_V2_AUTH_VALUES must list the accepted value\(s\) of FP_V2_AUTH_HEADER/],
    [{ FP_V2_AUTH_VALUES: TOKEN }, /FP_V2_AUTH_VALUES is set without FP_V2_AUTH_HEADER/],
    [{ FP_V2_AUTH_HEADER: 'x-fp-token', FP_V2_AUTH_VALUES: 'short-token' }, /every FP_V2_AUTH_VALUES value must be at least 16/],
    [{ FP_V2_BASIC_AUTH: `fp-hooks-${PASSWORD}` }, /FP_V2_BASIC_AUTH entries must be user:password/],
    [{ FP_V2_BASIC_AUTH: 'fp-hooks:short' }, /a FP_V2_BASIC_AUTH password must be at least 16/],
    [{ FP_V2_AUTH_HEADER: 'authorization', FP_V2_AUTH_VALUES: `Bearer ${TOKEN}`, FP_V2_BASIC_AUTH: `fp:${PASSWORD}` }, /FP_V2_AUTH_HEADER cannot be authorization when FP_V2_BASIC_AUTH is set/],
    [{ FP_V2_SIGNING_SECRETS: 'short' }, /FP_V2_SIGNING_SECRETS value must be at least 16/],
    [{ FP_ACCEPT_V2: 'false', FP_V2_SIGNING_SECRETS: SIGNING }, /need FP_ACCEPT_V2=true/]
  ]
  for (const [env, message] of cases) {
    const err = (() => { try { loadApiConfig({ ...base, ...env }) } catch (e) { return e } })()
    t.ok(err instanceof ConfigError, JSON.stringify(Object.keys(env)))
    t.match((err as Error).message, message)
    for (const value of [TOKEN, PASSWORD, SIGNING]) t.notOk((err as Error).message.includes(value), 'no value in the message')
  }
  const ok = loadApiConfig({ ...base, FP_V2_AUTH_HEADER: 'X-FP-Token', FP_V2_AUTH_VALUES: `${TOKEN},${OLD_TOKEN}`, FP_V2_BASIC_AUTH: `fp:${PASSWORD}`, FP_V2_SIGNING_SECRETS: SIGNING })
  t.equal(ok.FP_ACCEPT_V2, true)
  t.equal(loadApiConfig({ ...base, FP_ACCEPT_V2: 'false' }).FP_ACCEPT_V2, false)
})
