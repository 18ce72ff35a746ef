import t from 'tap'
import { loadApiConfig } from '../src/config.js'
import { build, SECRET } from './helper.js'

const TOKEN = 'admin-token-0123456789abcdef'
/** The documented budget: failed admin authentications a client may make per window. */
const FAILURE_BUDGET = 10

type App = Awaited<ReturnType<typeof build>>
const admin = (
  app: App,
  authorization: string | null,
  options: { remoteAddress?: string, forwardedFor?: string } = {}
) => app.server.inject({
  method: 'GET',
  url: '/admin/events',
  headers: {
    ...(authorization ? { authorization } : {}),
    ...(options.forwardedFor ? { 'x-forwarded-for': options.forwardedFor } : {})
  },
  ...(options.remoteAddress ? { remoteAddress: options.remoteAddress } : {})
})
const right = `Bearer ${TOKEN}`
const wrong = (i: number) => `Bearer wrong-guess-${i}-0123456789`

t.test('failed admin authentications are limited per client: 429 once the budget is spent, for the right token too', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN } })
  for (let i = 0; i < FAILURE_BUDGET; i++) t.equal((await admin(app, wrong(i))).statusCode, 401, `wrong token ${i + 1} of ${FAILURE_BUDGET}`)
  const limited = await admin(app, wrong(FAILURE_BUDGET))
  t.equal(limited.statusCode, 429, 'the next wrong token is refused without a comparison')
  t.equal(limited.json().code, 'ADMIN_AUTH_LIMITED')
  t.ok(Number(limited.headers['retry-after']) > 0, 'Retry-After says when to come back')
  // A right guess must look like a wrong one while the budget is spent, or the limit would tell
  // a brute force which guess was right.
  t.equal((await admin(app, right)).statusCode, 429, 'the right token is refused too from that client for the window')
  t.equal((await admin(app, `Basic ${Buffer.from(`ops:${TOKEN}`).toString('base64')}`)).statusCode, 429, 'and through Basic auth')

  t.equal((await admin(app, right, { remoteAddress: '192.0.2.10' })).statusCode, 200, 'another client is not affected')
  t.equal((await admin(app, wrong(0), { remoteAddress: '192.0.2.10' })).statusCode, 401, 'and has its own budget')

  const anonymous = new Set()
  for (let i = 0; i < FAILURE_BUDGET * 2; i++) anonymous.add((await admin(app, null, { remoteAddress: '192.0.2.20' })).statusCode)
  t.same([...anonymous], [401])
  t.equal((await admin(app, right, { remoteAddress: '192.0.2.20' })).statusCode, 200, 'requests without credentials guess nothing and spend no budget (a browser before its Basic prompt)')

  t.match(app.logs.text(), /"level":40[^\n]*failed admin authentications/, 'a warn line when a client spends its budget')
  t.notMatch(app.logs.text(), TOKEN, 'the token is never logged')
})

t.test('by default a fresh X-Forwarded-For per request does not escape the limit', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN } })
  const statuses = []
  for (let i = 0; i <= FAILURE_BUDGET; i++) statuses.push((await admin(app, wrong(i), { forwardedFor: `203.0.113.${i + 1}` })).statusCode)
  t.same(statuses, [...Array(FAILURE_BUDGET).fill(401), 429], 'the header is not trusted: every guess counts against the socket address')
  t.equal((await admin(app, right, { forwardedFor: '203.0.113.200' })).statusCode, 429)
  t.match(app.logs.text(), /"remoteAddress":"127\.0\.0\.1"/, 'logged with the socket address')
  t.notMatch(app.logs.text(), /"remoteAddress":"203\.0\.113\./)
})

t.test('TRUST_PROXY set to the proxy address: the client address is taken from X-Forwarded-For', async (t) => {
  // inject's socket address is 127.0.0.1: that is the proxy here.
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN, TRUST_PROXY: '127.0.0.1' } })
  for (let i = 0; i < FAILURE_BUDGET; i++) t.equal((await admin(app, wrong(i), { forwardedFor: '203.0.113.7' })).statusCode, 401)
  t.equal((await admin(app, right, { forwardedFor: '203.0.113.7' })).statusCode, 429, 'the client behind the proxy is limited')
  t.equal((await admin(app, right, { forwardedFor: '203.0.113.8' })).statusCode, 200, 'another client behind the same proxy is not')
  t.match(app.logs.text(), /"remoteAddress":"203\.0\.113\.7"/, 'logged with the forwarded address')

  // A peer that is not the trusted proxy cannot choose its address with the header.
  const statuses = []
  for (let i = 0; i <= FAILURE_BUDGET; i++) statuses.push((await admin(app, wrong(i), { remoteAddress: '198.51.100.1', forwardedFor: `203.0.113.${50 + i}` })).statusCode)
  t.same(statuses, [...Array(FAILURE_BUDGET).fill(401), 429])
})

t.test('TRUST_PROXY: off by default; booleans and address/CIDR lists accepted, anything else refused by name', async (t) => {
  const base = { FP_WEBHOOK_SECRET: SECRET }
  t.equal(loadApiConfig(base).TRUST_PROXY, 'false', 'default')
  for (const value of ['true', 'false', '10.0.0.1', '10.0.0.1, 192.168.0.0/16,::1', 'loopback,uniquelocal', '10.0.0.0/255.0.0.0']) {
    t.doesNotThrow(() => loadApiConfig({ ...base, TRUST_PROXY: value }), value)
  }
  for (const value of ['2', 'yes', '10.0.0.300', '10.0.0.0/33', 'proxy.internal']) {
    t.throws(() => loadApiConfig({ ...base, TRUST_PROXY: value }), { name: 'ConfigError', message: /TRUST_PROXY/ }, value)
  }
})
