import { Redis } from 'ioredis'
import { captureLogs } from '@fp-webhooks/testing'
import t from 'tap'
import { pino } from 'pino'
import { EXAMPLE_FIXTURES, createIds, fixture, fixtureNames, type Json } from './helpers/payloads.js'
import { createRng } from './helpers/random.js'
import { ADMIN_TOKEN, OLD_SECRET, SECRET, TEST_REDIS_URL, WEBHOOK, WEBHOOK_PREFIX, createEnv, inject, is5xx, startApi, startWorker, tally, waitFor, type Answer } from './helpers/stack.js'

/** A Redis key's content as text, whatever its type. */
async function redisValue (redis: Redis, key: string): Promise<string | null> {
  switch (await redis.type(key)) {
    case 'string': return redis.get(key)
    case 'hash': return JSON.stringify(await redis.hgetall(key))
    case 'list': return JSON.stringify(await redis.lrange(key, 0, -1))
    case 'set': return JSON.stringify(await redis.smembers(key))
    case 'zset': return JSON.stringify(await redis.zrange(key, 0, -1))
    case 'stream': return JSON.stringify(await redis.xrange(key, '-', '+'))
    default: return ''
  }
}

/** Every value of `key` anywhere in `doc`. */
function valuesOf (doc: unknown, key: string, out: Set<string> = new Set()): Set<string> {
  if (Array.isArray(doc)) for (const v of doc) valuesOf(v, key, out)
  else if (doc !== null && typeof doc === 'object') {
    for (const [k, v] of Object.entries(doc)) {
      if (k === key && typeof v === 'string' && v !== '') out.add(v)
      else valuesOf(v, key, out)
    }
  }
  return out
}

t.test('no webhook secret, auth_token or temp_password in any log line or any column; no admin token in the logs', async (t) => {
  const rng = createRng(t)
  const nextId = createIds(rng.int(1, 1_000_000) * 1000)
  const env = await createEnv(t)
  const api = await startApi(t, env, { env: { ADMIN_TOKEN, LOG_LEVEL: 'trace', FP_FULFILMENT_WAIT_MS: '1500' } })
  const workerLogs = captureLogs()
  await startWorker(t, env, { logger: pino({ level: 'trace', name: 'worker' }, workerLogs.stream) })
  const hookUrl = (secret: string) => `https://api.example.com${WEBHOOK_PREFIX}/${secret}`

  // Every example and variation, with our secrets in the campaign URL (where FirstPromoter echoes
  // it) and fresh credentials of its own on every promoter.
  const answers: Answer[] = []
  const sent: Json[] = []
  const bodies: Json[] = []
  for (const name of fixtureNames().filter((n) => !n.startsWith('commission'))) {
    const body = fixture(name)
    if (body.event) body.event.id = nextId()
    const data = body.data ?? {}
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
      if (data.id !== undefined && typeof data.id !== 'string') data.id = nextId()
      data.campaign = { ...(data.campaign ?? {}), default_webhook_url: hookUrl(rng.pick([SECRET, OLD_SECRET])) }
      for (const promoter of [data.promoter, data.lead?.promoter].filter((p) => p && typeof p === 'object')) {
        promoter.auth_token = `tok_${rng.string(24)}`
        promoter.temp_password = `pw_${rng.string(10)}`
      }
    }
    bodies.push(body)
  }
  for (const body of bodies) { sent.push(body); answers.push(await inject(api, body)) }

  // Wrong secrets (near misses of ours), bodies carrying credentials.
  for (const wrong of [SECRET.slice(0, -1), `${SECRET}x`, SECRET.toUpperCase(), OLD_SECRET.replace(/.$/, 'Z'), 'nope']) {
    const body = fixture('promoter_accepted')
    body.event.id = nextId()
    body.data.campaign.default_webhook_url = hookUrl(SECRET)
    sent.push(body)
    answers.push(await inject(api, body, { url: `${WEBHOOK_PREFIX}/${wrong}` }))
  }
  // Our secret on a mistyped URL (a double slash, another prefix, a query string, a wrong method).
  const nearPaths = [`${WEBHOOK_PREFIX}//${SECRET}`, `${WEBHOOK_PREFIX}/${SECRET}/extra`, `/api${WEBHOOK}`, `/WEBHOOKS/firstpromoter/${SECRET}`,
    `${WEBHOOK_PREFIX}?secret=${SECRET}`, `${WEBHOOK}?again=${OLD_SECRET}`, `/webhooks/firstpromoter-v2/${OLD_SECRET}`]
  for (const url of nearPaths) {
    const body = fixture('lead_signup')
    body.event.id = nextId()
    answers.push(await inject(api, body, { url }))
  }
  const getWebhook = await api.server.inject({ method: 'GET', url: WEBHOOK })
  answers.push({ statusCode: getWebhook.statusCode, body: getWebhook.body })

  // Bodies that end in quarantine: broken envelope, broken JSON, wrong content type, a broken fulfilment.
  const quarantined: Array<[string, Record<string, string>]> = []
  for (const name of EXAMPLE_FIXTURES) {
    const body = fixture(name)
    body.data.campaign = { default_webhook_url: hookUrl(SECRET) }
    const promoter = body.data.promoter ?? body.data.lead ?? body.data
    promoter.auth_token = `tok_${rng.string(24)}`
    promoter.temp_password = `pw_${rng.string(10)}`
    sent.push(body)
    delete body.event.type
    quarantined.push([JSON.stringify(body), { 'content-type': 'application/json' }])
    const text = JSON.stringify({ ...body, event: { id: nextId(), type: name } })
    quarantined.push([text.slice(0, -3), { 'content-type': 'application/json' }])
    quarantined.push([text, { 'content-type': 'text/plain' }])
    // Cut in transit right after the credential, before its closing quote.
    const token = valuesOf(JSON.parse(text), 'auth_token').values().next().value as string
    quarantined.push([text.slice(0, text.indexOf(token) + token.length), { 'content-type': 'application/json' }])
    quarantined.push([text.slice(0, text.indexOf(token) + token.length - 4), { 'content-type': 'application/json' }])
  }
  const badFulfilment = fixture('fulfilment_pending')
  badFulfilment.event.id = nextId()
  badFulfilment.data.amount = -1
  badFulfilment.data.campaign.default_webhook_url = hookUrl(OLD_SECRET)
  badFulfilment.data.promoter.auth_token = `tok_${rng.string(24)}`
  sent.push(badFulfilment)
  quarantined.push([JSON.stringify(badFulfilment), { 'content-type': 'application/json' }])
  for (const [payload, headers] of quarantined) answers.push(await inject(api, payload, { headers }))

  // Fulfilments, granted by the worker.
  const fulfilmentIds: number[] = []
  for (let i = 0; i < 5; i++) {
    const body = fixture('fulfilment_pending')
    body.event.id = nextId()
    body.data.id = nextId()
    body.data.promoter.id = nextId()
    body.data.promoter.auth_token = `tok_${rng.string(24)}`
    body.data.promoter.temp_password = `pw_${rng.string(10)}`
    body.data.campaign.default_webhook_url = hookUrl(SECRET)
    fulfilmentIds.push(body.data.id)
    sent.push(body)
    answers.push(await inject(api, body))
  }

  // Admin calls: lists, details, a replay, quarantine resubmits, a wrong token.
  const admin = (method: 'GET' | 'POST', url: string, token = ADMIN_TOKEN, body?: unknown) => api.server.inject({ method, url, headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) }, ...(body ? { payload: JSON.stringify(body) } : {}) })
  const adminAnswers: string[] = []
  const [someEvent] = await env.sql`select id::int from webhook_events order by id limit 1`
  const [someQuarantine] = await env.sql`select id::int from quarantine order by id limit 1`
  for (const [method, url, token] of [
    ['GET', '/admin/events'], ['GET', `/admin/events/${someEvent!.id}`], ['POST', `/admin/events/${someEvent!.id}/replay`],
    ['GET', '/admin/quarantine'], ['POST', `/admin/quarantine/${someQuarantine!.id}/resubmit`], ['GET', '/admin/fulfilments'],
    ['GET', `/admin/fulfilments/${fulfilmentIds[0]}`], ['GET', '/admin/events', `${ADMIN_TOKEN}x`], ['GET', '/admin/events', ADMIN_TOKEN.slice(0, -1)]
  ] as const) {
    const res = await admin(method, url, token)
    adminAnswers.push(res.body)
    answers.push({ statusCode: res.statusCode, body: res.body })
  }
  const basic = await api.server.inject({ method: 'GET', url: '/admin/events', headers: { authorization: `Basic ${Buffer.from(`ops:${ADMIN_TOKEN}`).toString('base64')}` } })
  answers.push({ statusCode: basic.statusCode, body: basic.body })
  adminAnswers.push(basic.body)

  await waitFor(async () => {
    const [r] = await env.sql`select count(*)::int as n from fulfilments where state <> 'granted' and id = any(${fulfilmentIds})`
    return r!.n === 0
  }, 15_000, 'the fulfilments to be granted')
  await waitFor(async () => {
    const [r] = await env.sql`select count(*)::int as n from webhook_events where state = 'pending'`
    return r!.n === 0
  }, 15_000, 'every event to be processed')

  // What must never appear.
  const secrets = new Map<string, string>([['webhook secret', SECRET], ['old webhook secret', OLD_SECRET]])
  for (const body of sent) {
    for (const v of valuesOf(body, 'auth_token')) secrets.set(`auth_token ${v.slice(0, 6)}…`, v)
    for (const v of valuesOf(body, 'temp_password')) secrets.set(`temp_password ${v.slice(0, 5)}…`, v)
  }
  // Sanity: the scan would see a leak (the values are long enough to be unambiguous).
  t.ok([...secrets.values()].every((v) => v.length >= 6), `${secrets.size} distinct secret values to look for`)

  const logLines = [...api.logs.lines, ...workerLogs.lines]
  const tables = (await env.sql`select table_schema, table_name from information_schema.tables where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`)
  const dump: Array<{ where: string, text: string }> = []
  for (const { table_schema: schema, table_name: table } of tables) {
    const rows = await env.sql.unsafe(`select * from "${schema}"."${table}"`)
    for (const row of rows) dump.push({ where: `${schema}.${table}`, text: JSON.stringify(row) })
  }
  // The queue's Redis keys too: job data, return values, failure reasons, event streams.
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 })
  t.teardown(() => redis.quit())
  const keys = await redis.keys(`${env.prefix}:*`)
  for (const key of keys) {
    const value = await redisValue(redis, key)
    dump.push({ where: `redis ${key}`, text: value ?? '' })
  }

  const leaks: string[] = []
  for (const [label, value] of secrets) {
    for (const line of logLines) if (line.includes(value)) leaks.push(`${label} in a log line: ${line.slice(0, 200)}`)
    for (const d of dump) if (d.text.includes(value)) leaks.push(`${label} in ${d.where}`)
    for (const a of answers) if (a.body.includes(value)) leaks.push(`${label} in an answer: ${a.body.slice(0, 200)}`)
  }
  t.same(leaks.slice(0, 20), [], 'no secret value in any log line, table row, Redis key or answer')
  const tokenInLogs = logLines.filter((l) => l.includes(ADMIN_TOKEN) || l.includes(Buffer.from(`ops:${ADMIN_TOKEN}`).toString('base64')))
  t.same(tokenInLogs, [], 'the admin token is in no log line')

  // The scenario did what it claims: the masked forms are there.
  const inbox = dump.filter((d) => d.where.endsWith('.webhook_events')).map((d) => d.text).join('\n')
  t.match(inbox, '[REDACTED]', 'stored payloads carry the masks')
  t.match(api.logs.text(), `${WEBHOOK_PREFIX}/[REDACTED]`, 'request logs show the masked URL')
  const fiveXX = answers.filter((a) => is5xx(a.statusCode))
  t.equal(fiveXX.length, 0, 'no 5xx')

  t.comment(`deliveries sent: ${bodies.length} fixtures with our secret in default_webhook_url, 5 with wrong secrets, ${nearPaths.length + 1} on mistyped URLs or methods, ${quarantined.length} quarantined bodies, ${fulfilmentIds.length} fulfilments, ${adminAnswers.length} admin calls; answers ${JSON.stringify(tally(answers))}`)
  t.comment(`scanned: ${logLines.length} log lines (api ${api.logs.lines.length}, worker ${workerLogs.lines.length}), ${dump.filter((d) => !d.where.startsWith('redis')).length} rows in ${tables.length} tables, ${keys.length} Redis keys, ${answers.length} answers, for ${secrets.size} secret values`)
  t.comment(`leaks: ${leaks.length}, admin token in logs: ${tokenInLogs.length}, 5xx: ${fiveXX.length}`)
})
