import { captureLogs } from '@fp-webhooks/testing'
import { pino } from 'pino'
import t from 'tap'
import { loggerOptions } from '../src/server.js'
import { build, fixture, post, SECRET, WEBHOOK } from './helper.js'

// Characters that a URL carries percent-encoded and a JSON log line escapes.
const ADMIN_TOKEN = 'admin+token/0123456789"abc\\def=='
const FP_API_KEY = 'fp-api-key-9f8e7d6c5b4a39281706'
const FP_API_V2_KEY = 'fp-v2-key-1a2b3c4d5e6f7a8b9c0d'
const METRICS_TOKEN = 'metrics-token-0123456789abcdef'

/**
 * Every form in which a value can reach a log line: as is, JSON-escaped,
 * percent-encoded (either hex case), `+` for space.
 */
function forms (value: string) {
  const encoded = encodeURIComponent(value)
  return [value, JSON.stringify(value).slice(1, -1), encoded, encoded.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())]
}

t.test('no log line holds a configured secret, wherever in the URL or the line it appears', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN, FP_API_KEY, FP_API_V2_KEY, METRICS_TOKEN } })
  const adminAuth = { authorization: `Bearer ${ADMIN_TOKEN}` }
  const urls: string[] = []
  for (const token of forms(ADMIN_TOKEN).slice(2)) {
    urls.push(`/admin/events?token=${token}`, `/admin/events?limit=1&token=${token}`, `/admin/events/${token}`, `/nope/${token}?q=1`)
  }
  urls.push(`/admin/events?key=${FP_API_KEY}`, `/metrics?token=${METRICS_TOKEN}`, `/whatever?v2=${FP_API_V2_KEY}&s=${SECRET}`)
  for (const url of urls) {
    const res = await app.server.inject({ method: 'GET', url, headers: adminAuth })
    t.ok(res.statusCode < 500, `${res.statusCode} ${url.slice(0, 20)}`)
  }
  t.equal((await post(app.server, fixture('lead_signup.json'), { url: `${WEBHOOK}?token=${encodeURIComponent(ADMIN_TOKEN)}` })).statusCode, 200)
  // Any other line that quotes a secret, e.g. an error text from a library.
  app.server.log.warn({ err: new Error(`request failed: key=${FP_API_KEY}`), detail: `Bearer ${ADMIN_TOKEN}` }, `call with ${METRICS_TOKEN} failed`)

  const text = app.logs.text()
  for (const secret of [ADMIN_TOKEN, FP_API_KEY, FP_API_V2_KEY, METRICS_TOKEN, SECRET]) {
    for (const form of forms(secret)) t.notOk(text.includes(form), `no line holds ${secret.slice(0, 10)}… as ${JSON.stringify(form.slice(0, 16))}`)
  }
  const requestLines = app.logs.lines.filter((l) => l.includes('"msg":"incoming request"'))
  t.equal(requestLines.length, urls.length, 'each request is still logged (/metrics logs at warn only; the webhook delivery makes up for it)')
  t.ok(requestLines.every((l) => l.includes('[REDACTED]')), 'with the secret masked, not dropped')
  t.match(text, /"url":"\/admin\/events\?limit=1&token=\[REDACTED\]"/, 'the rest of the URL is kept')
  t.match(text, /request failed: key=\[REDACTED\]/)
})

t.test('connection-string passwords are masked too, decoded or as written in the URL', async (t) => {
  const logs = captureLogs()
  const log = pino(loggerOptions({ LOG_LEVEL: 'info', DATABASE_URL: 'postgres://app:db-pass%40word-1234@db.internal/fp', REDIS_URL: 'redis://:redis-pass-5678@cache.internal:6379' }), logs.stream)
  log.error({ err: new Error('password authentication failed: db-pass@word-1234') }, 'connecting to postgres://app:db-pass%40word-1234@db.internal/fp and redis-pass-5678 failed')
  t.equal(logs.lines.length, 1)
  t.notMatch(logs.text(), /db-pass|redis-pass/)
  t.match(logs.text(), /postgres:\/\/app:\[REDACTED\]@db\.internal/)
})
