import { startFakeFirstPromoter } from '@fp-webhooks/firstpromoter-api/fake'
import { grantJobId } from '@fp-webhooks/queue'
import { PermanentGrantError } from '@fp-webhooks/worker'
import t from 'tap'
import { consoleSession } from './console-session.js'
import { build, fulfilmentPayload, post, startWorker, waitFor } from './helper.js'

const TOKEN = 'admin-token-0123456789abcdef'
const basic = { authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}` }

t.test('the console is served at /admin/console only when ADMIN_TOKEN is set, and its session opens nothing else', async (t) => {
  const off = await build(t)
  t.equal((await off.server.inject({ method: 'GET', url: '/admin/console' })).statusCode, 404)

  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN } })
  const login = await app.server.inject({ method: 'GET', url: '/admin/console' })
  t.equal(login.statusCode, 200, 'the login form needs no token')
  t.match(login.headers['content-security-policy'], "default-src 'none'")
  t.equal((await app.server.inject({ method: 'GET', url: '/admin/console/events', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 303, 'a bearer token is no console session')
  const operator = consoleSession(app.server)
  t.equal((await operator.login(TOKEN)).statusCode, 303)
  t.equal((await operator.get('/events')).statusCode, 200)
  t.equal((await app.server.inject({ method: 'GET', url: '/admin/events', headers: { cookie: [...operator.jar].map(([k, v]) => `${k}=${v}`).join('; ') } })).statusCode, 401, 'the admin API still wants its token')
  const openapi = (await app.server.inject({ method: 'GET', url: '/openapi.json' })).json()
  t.notOk(Object.keys(openapi.paths).some((p) => p.includes('/console')), 'the console stays out of the OpenAPI document')
  t.notMatch(app.logs.text(), TOKEN, 'the token is never logged')
})

t.test('wrong tokens at the login form spend the admin API\'s failure budget', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN } })
  const operator = consoleSession(app.server)
  for (let i = 0; i < 10; i++) t.equal((await operator.login('wrong-token-0123456789')).statusCode, 401)
  t.equal((await app.server.inject({ method: 'GET', url: '/admin/events', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode, 429, 'one budget for both')
  t.equal((await operator.login(TOKEN)).statusCode, 429)
})

t.test('Retry in the console grants a failed fulfilment once its cause is fixed; FirstPromoter\'s re-fire then gets 200', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN } })
  let customerExists = false
  await startWorker(t, app, { grants: { credits: () => { if (!customerExists) throw new PermanentGrantError('no customer user_9 in billing') } } })
  const ful = fulfilmentPayload({ unit: 'credits', amount: 10 })
  t.equal((await post(app.server, ful)).statusCode, 422)
  const operator = consoleSession(app.server)
  await operator.login(TOKEN)
  const overview = await operator.get('/')
  t.match(overview.body, 'no customer user_9 in billing')

  customerExists = true
  const retry = await operator.post(`/fulfilments/${ful.data.id}/retry`)
  t.equal(retry.statusCode, 303)
  await waitFor(async () => (await app.sql`select state from fulfilments where id = ${ful.data.id}`)[0].state === 'granted', 10_000, 'granted after retry')
  t.equal((await app.sql`select count(*)::int as n from ledger_entries`)[0].n, 1)
  t.notMatch((await operator.get('/')).body, 'no customer user_9 in billing', 'nothing needs a human any more')
  t.equal((await post(app.server, ful)).statusCode, 200)
})

t.test('Resubmit in the console sends a corrected quarantined body through the webhook route', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN } })
  const ful = fulfilmentPayload()
  ful.data.amount = 'two'
  t.equal((await post(app.server, ful)).statusCode, 400)
  const [q] = await app.sql`select id from quarantine`
  const operator = consoleSession(app.server)
  await operator.login(TOKEN)
  t.match((await operator.get('/quarantine')).body, '/data/amount')
  const again = await operator.post(`/quarantine/${q.id}/resubmit`, { mode: 'as-is' })
  t.equal(again.statusCode, 422, 'as is, it is refused again')
  ful.data.amount = 2
  const fixed = await operator.post(`/quarantine/${q.id}/resubmit`, { mode: 'corrected', body: JSON.stringify(ful) })
  t.equal(fixed.statusCode, 303)
  t.match(fixed.headers.location, /notice=resubmitted/)
  t.equal((await app.sql`select count(*)::int as n from webhook_events where event_type = 'fulfilment_pending'`)[0].n, 1, 'stored through the route')
  t.ok((await app.sql`select resubmitted_at from quarantine where id = ${q.id}`)[0].resubmitted_at, 'noted as resubmitted')
})

t.test('Retry close in the console sends a failed API close again', async (t) => {
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN, FP_FULFILMENT_WAIT_MS: '0' } })
  await startWorker(t, app, { api: { v1: { apiKey: fake.apiKey, baseUrl: fake.url } } })
  const ful = fulfilmentPayload({ amount: 1 })
  fake.addPayout({ ...ful.data, status: 'pending' })
  fake.failNext(1, { status: 401, path: '/api/v1/payouts/update' })
  t.equal((await post(app.server, ful)).statusCode, 202)
  await waitFor(async () => (await app.sql`select api_close from fulfilments where id = ${ful.data.id}`)[0].api_close === 'failed', 15_000, 'the close failed')
  const operator = consoleSession(app.server)
  await operator.login(TOKEN)
  t.match((await operator.get('/')).body, `/fulfilments/${ful.data.id}/retry-close`)
  t.equal((await operator.post(`/fulfilments/${ful.data.id}/retry-close`)).statusCode, 303)
  await waitFor(async () => (await app.sql`select api_close from fulfilments where id = ${ful.data.id}`)[0].api_close === 'done', 15_000, 'closed on retry')
  t.equal(fake.getPayout(ful.data.id)?.status, 'completed')
  const timeline = await operator.get(`/fulfilments/${ful.data.id}`)
  t.match(timeline.body, 'Closed on FirstPromoter through its API')
})

t.test('Bull Board: its page fetches its locale without the credentials of its URL, and the locale is served', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN } })
  const page = await app.server.inject({ method: 'GET', url: '/admin/queues/', headers: basic })
  t.equal(page.statusCode, 200)
  const shim = /<script src="([^"]*fetch-without-credentials\.js)"><\/script>/.exec(page.body)
  t.ok(shim, 'the page loads the fetch shim')
  t.ok(page.body.indexOf(shim![0]) < page.body.indexOf('static/js/main'), 'before the board\'s own scripts')
  const script = await app.server.inject({ method: 'GET', url: new URL(shim![1]!, 'http://x/admin/queues/').pathname, headers: basic })
  t.equal(script.statusCode, 200)
  t.match(script.headers['content-type'], /javascript/)
  const locale = await app.server.inject({ method: 'GET', url: '/admin/queues/static/locales/en-US/messages.json?v=9.10.1', headers: basic })
  t.equal(locale.statusCode, 200)
  t.equal(typeof locale.json().MENU?.QUEUES, 'string', 'MENU.QUEUES is translated')
})

t.test('grant jobs carry the fulfilment, its unit and amount, and Bull Board names them so', async (t) => {
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN, FP_FULFILMENT_WAIT_MS: '0' } })
  const ful = fulfilmentPayload({ unit: 'free_months', amount: 3 })
  t.equal((await post(app.server, ful)).statusCode, 202, 'no worker: it stays queued')
  const job = await app.server.queue.queues.grants.getJob(grantJobId(ful.data.id))
  t.match(job?.data, { fulfilmentId: ful.data.id, unit: 'free_months', amount: 3, inboxId: Number }, 'and the inbox row it processes')
  const listed = await app.server.inject({ method: 'GET', url: '/admin/queues/api/queues?activeQueue=fp-grants&status=waiting&page=1', headers: basic })
  t.equal(listed.statusCode, 200)
  const jobs = listed.json().queues.find((q: { name: string }) => q.name === 'fp-grants').jobs
  t.equal(jobs[0].name, `grant ${ful.data.id}: 3 free_months`)
  t.equal(jobs[0].id, grantJobId(ful.data.id), 'the id scheme is unchanged')
})
