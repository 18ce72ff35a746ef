import { startFakeFirstPromoter } from '@fp-webhooks/firstpromoter-api/fake'
import { captureLogs } from '@fp-webhooks/testing'
import { pino } from 'pino'
import t from 'tap'
import { build, fulfilmentPayload, post, sleep, startWorker, waitFor } from './helper.js'

/*
 * The pause switch across processes: one api and TWO workers (each its own BullMQ workers, Redis
 * connections and Postgres pool) on one database and Redis prefix. A pause set through the api must
 * hold in both workers; a resume must let the held-back grants run once and close them on the fake
 * FirstPromoter API.
 */

const TOKEN = 'admin-token-0123456789abcdef'
const auth = { authorization: `Bearer ${TOKEN}` }

async function stack (t: { teardown: (fn: () => unknown) => void }) {
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN, FP_FULFILMENT_WAIT_MS: '5000' } })
  const workerLogs = [captureLogs(), captureLogs()]
  // The recheck is far longer than the test: only the resume's promotion can make a held-back grant run.
  const workers = await Promise.all(workerLogs.map((logs) => startWorker(t, app, {
    api: { v1: { apiKey: fake.apiKey, baseUrl: fake.url } },
    pauseRecheckMs: 10 * 60_000,
    logger: pino({ level: 'debug' }, logs.stream)
  })))
  const admin = (method: 'GET' | 'POST', url: string, payload?: unknown) => app.server.inject({
    method,
    url,
    headers: payload === undefined ? auth : { ...auth, 'content-type': 'application/json' },
    ...(payload === undefined ? {} : { payload: JSON.stringify(payload) })
  })
  const deliver = async (unit: string) => {
    const body = fulfilmentPayload({ unit, amount: 3 })
    fake.addPayout({ ...body.data, status: 'pending' })
    const started = Date.now()
    const res = await post(app.server, body)
    return { body, id: body.data.id as number, res, ms: Date.now() - started }
  }
  const ledgerRows = async (id: number) => (await app.sql`select count(*)::int as n from ledger_entries where fulfilment_id = ${id}`)[0].n as number
  const fulfilment = async (id: number) => (await app.sql`select state, api_close, attempts from fulfilments where id = ${id}`)[0]
  const metric = async () => (await app.server.inject({ method: 'GET', url: '/metrics' })).body.split('\n').filter((l) => l.startsWith('fp_grants_paused{'))
  return { fake, app, workers, workerLogs, admin, deliver, ledgerRows, fulfilment, metric }
}
t.test('paused: recorded, answered 202 at once, nothing granted by either worker; resumed: granted once and closed on FirstPromoter', async (t) => {
  const { fake, app, workers, workerLogs, admin, deliver, ledgerRows, fulfilment, metric } = await stack(t)

  t.same((await admin('GET', '/admin/grants/pause')).json(), { all: false, units: [], pauses: [] }, 'nothing paused at first')
  const paused = await admin('POST', '/admin/grants/pause')
  t.equal(paused.statusCode, 200)
  t.equal(paused.json().all, true)
  const status = (await admin('GET', '/admin/grants/pause')).json()
  t.match(status.pauses, [{ scope: 'all', unit: null, paused_by: 'admin' }], 'who paused it')
  t.ok(Date.now() - Date.parse(status.pauses[0].paused_at) < 60_000, 'and since when')
  t.match(app.logs.text(), /"action":"pause","unit":null,"by":"admin","changed":true/, 'the change is logged with who made it')
  t.same(await metric(), ['fp_grants_paused{unit="all"} 1'])

  const held = []
  for (const unit of ['credits', 'free_months', 'credits', 'points', 'credits', 'free_months']) held.push(await deliver(unit))
  for (const d of held) {
    t.equal(d.res.statusCode, 202, `fulfilment ${d.id} (${d.body.data.unit}) answered 202`)
    t.same(d.res.json(), { fulfilment_id: d.id, state: 'pending' })
    t.ok(d.ms < 2500, `answered without waiting 5 s for a grant that cannot run (${d.ms} ms)`)
  }
  // Both workers have had every chance to take the jobs.
  await waitFor(async () => (await workers[0]!.queues.grants.getDelayedCount()) === held.length, 10_000, 'every grant job deferred')
  await sleep(300)
  for (const d of held) {
    t.equal(await ledgerRows(d.id), 0, `no ledger row for ${d.id}`)
    const row = await fulfilment(d.id)
    t.equal(row.state, 'pending')
    t.equal(row.attempts, 0, 'no attempt spent')
    const job = await workers[0]!.queues.grants.getJob(`grant-${d.id}`)
    t.equal(await job?.getState(), 'delayed', 'its job waits, delayed')
    t.equal(job?.attemptsMade, 0, 'and has not burnt an attempt')
  }
  const deferredBy = workerLogs.map((l) => l.lines.filter((line) => line.includes('grant deferred')).length)
  t.comment(`grants deferred by worker 1: ${deferredBy[0]}, by worker 2: ${deferredBy[1]}`)
  t.equal(deferredBy[0]! + deferredBy[1]!, held.length, 'each job deferred once, by one worker or the other')
  const refire = await post(app.server, held[0]!.body)
  t.equal(refire.statusCode, 202, 'a re-fire while paused is answered 202 too')
  t.equal(await ledgerRows(held[0]!.id), 0)
  t.equal(fake.closeCalls(held[0]!.id).length, 0, 'nothing closed on FirstPromoter while paused')

  t.equal((await admin('POST', '/admin/grants/resume', { unit: 'credits' })).statusCode, 409, 'one unit cannot be resumed while every unit is paused')
  const resumed = await admin('POST', '/admin/grants/resume')
  t.equal(resumed.statusCode, 200)
  t.match(resumed.json(), { all: false, units: [], lifted: ['all'], queued: held.length })
  t.match(app.logs.text(), /"action":"resume","unit":null,"by":"admin"/)
  t.same(await metric(), ['fp_grants_paused{unit="all"} 0'])

  for (const d of held) {
    await waitFor(async () => (await fulfilment(d.id)).api_close === 'done', 15_000, `fulfilment ${d.id} closed`)
    t.equal(await ledgerRows(d.id), 1, `${d.id} granted once`)
    t.equal((await fulfilment(d.id)).state, 'granted')
    t.equal(fake.closeCalls(d.id).length, 1, `${d.id} closed once through the API`)
    t.equal(fake.getPayout(d.id)?.status, 'completed')
  }
  t.equal((await post(app.server, held[1]!.body)).statusCode, 200, 'a re-fire after the resume gets 200')
  t.equal(await ledgerRows(held[1]!.id), 1, 'and grants nothing more')
  t.notMatch(app.logs.text(), TOKEN, 'the admin token is never logged')
})

t.test('a unit paused alone: its fulfilments wait, other units keep granting; its resume grants them', async (t) => {
  const { fake, admin, deliver, ledgerRows, fulfilment, metric } = await stack(t)

  const paused = await admin('POST', '/admin/grants/pause', { unit: 'credits' })
  t.equal(paused.statusCode, 200)
  t.match(paused.json(), { all: false, units: ['credits'], pauses: [{ scope: 'unit', unit: 'credits', paused_by: 'admin' }] })
  t.equal((await admin('POST', '/admin/grants/pause', { unit: 'credits' })).statusCode, 200, 'pausing it again is harmless')
  t.same((await metric()).sort(), ['fp_grants_paused{unit="all"} 0', 'fp_grants_paused{unit="credits"} 1'])

  const credits = await deliver('credits')
  const months = await deliver('free_months')
  t.equal(credits.res.statusCode, 202, 'credits: 202')
  t.equal(months.res.statusCode, 200, 'free_months: granted at once, 200')
  t.equal(await ledgerRows(months.id), 1)
  await sleep(500)
  t.equal(await ledgerRows(credits.id), 0, 'credits: no ledger row while paused')

  const resumed = await admin('POST', '/admin/grants/resume', { unit: 'credits' })
  t.equal(resumed.statusCode, 200)
  t.match(resumed.json(), { units: [], lifted: ['credits'], queued: 1 })
  await waitFor(async () => (await fulfilment(credits.id)).api_close === 'done', 15_000, 'credits closed')
  t.equal(await ledgerRows(credits.id), 1, 'credits granted once')
  t.equal(fake.closeCalls(credits.id).length, 1)
  t.equal(fake.closeCalls(months.id).length, 0, 'the one answered 200 needed no close')
})

t.test('a bad body is refused 400 with its reason; no token, 401', async (t) => {
  const { admin, app } = await stack(t)
  const rule = /^body\/unit must be a unit name: 1–100 characters without spaces, not "all" or "\*"$/
  const bad: Array<[unknown, RegExp]> = [
    [{ unit: 5 }, /^body\/unit Expected string$/],
    [{ unit: '' }, rule],
    [{ unit: 'two words' }, rule],
    [{ unit: 'all' }, rule],
    [{ unit: '*' }, rule],
    [{ unit: 'x'.repeat(101) }, rule],
    [{ units: ['credits'] }, /^body\/units Unexpected property$/],
    [['credits'], /^body Expected object$/],
    [null, /^body Expected object$/]
  ]
  for (const route of ['/admin/grants/pause', '/admin/grants/resume']) {
    for (const [body, reason] of bad) {
      const res = await admin('POST', route, body)
      t.equal(res.statusCode, 400, `${route} ${JSON.stringify(body).slice(0, 40)}: 400`)
      t.match(res.json().message, reason, 'with the reason')
    }
    const broken = await app.server.inject({ method: 'POST', url: route, headers: { ...auth, 'content-type': 'application/json' }, payload: '{"unit":' })
    t.equal(broken.statusCode, 400, `${route}: JSON that does not parse, 400`)
    t.equal((await app.server.inject({ method: 'POST', url: route })).statusCode, 401, `${route}: no token, 401`)
  }
  t.equal((await app.server.inject({ method: 'GET', url: '/admin/grants/pause' })).statusCode, 401)
  t.same((await admin('GET', '/admin/grants/pause')).json(), { all: false, units: [], pauses: [] }, 'nothing was paused by any of them')
})
