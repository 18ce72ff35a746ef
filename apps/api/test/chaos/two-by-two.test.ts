import { readFileSync } from 'node:fs'
import t from 'tap'
import { createIds, fulfilmentEvent, ordinaryEvent, ORDINARY_TYPES } from './helpers/payloads.js'
import { API_BIN, WORKER_BIN, listeningUrl, spawnService, type Service } from './helpers/processes.js'
import { createRng } from './helpers/random.js'
import { SECRET, TEST_REDIS_URL, WEBHOOK, createEnv, is5xx, tally, waitFor } from './helpers/stack.js'

const FULFILMENTS = Number(process.env.CHAOS_TWO_FULFILMENTS ?? 150)
const EVENTS = Number(process.env.CHAOS_TWO_EVENTS ?? 150)
const CONCURRENCY = 16

/** User + system CPU of a process so far, in ms (Linux `/proc/<pid>/stat`, 100 ticks a second). */
function cpuMs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 10
}

/** Runs `jobs` with at most `n` at a time. */
async function pool<T> (jobs: Array<() => Promise<T>>, n: number): Promise<T[]> {
  const out: T[] = []
  let next = 0
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < jobs.length) {
      const i = next++
      out[i] = await jobs[i]!()
    }
  }))
  return out
}

t.test('two api and two worker processes on one Postgres and one Redis: no delivery lost, no grant doubled', async (t) => {
  const rng = createRng(t)
  const nextId = createIds(rng.int(1, 1_000_000) * 1000)
  const env = await createEnv(t)
  const vars = {
    DATABASE_URL: env.dbUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: env.prefix,
    FP_WEBHOOK_SECRET: SECRET,
    FP_FULFILMENT_WAIT_MS: '3000',
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'warn'
  }
  const apis = [spawnService(t, API_BIN, { ...vars, LOG_LEVEL: 'info' }), spawnService(t, API_BIN, { ...vars, LOG_LEVEL: 'info' })]
  const workers = [spawnService(t, WORKER_BIN, { ...vars, LOG_LEVEL: 'info' }), spawnService(t, WORKER_BIN, { ...vars, LOG_LEVEL: 'info' })]
  const urls = await Promise.all(apis.map((a) => listeningUrl(a, 30_000)))
  await Promise.all(workers.map((w) => w.waitForLine((l) => l.msg === 'worker ready', 30_000, 'the worker to be ready')))

  const fulfilments = Array.from({ length: FULFILMENTS }, () => fulfilmentEvent(nextId, { unit: rng.pick(['free_months', 'credits', 'points']), amount: rng.int(1, 20) }))
  const events = Array.from({ length: EVENTS }, () => ordinaryEvent(rng.pick([...ORDINARY_TYPES]), nextId))
  const post = async (url: string, body: unknown) => {
    const res = await fetch(url + WEBHOOK, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(20_000) })
    await res.arrayBuffer()
    return { statusCode: res.status }
  }
  // Every fulfilment to both apis at once (FirstPromoter re-firing while the first is answered),
  // every event to one of them.
  const jobs = [
    ...fulfilments.flatMap((body) => [() => post(urls[0]!, body), () => post(urls[1]!, body)]),
    ...events.map((body) => () => post(urls[rng.int(0, 1)]!, body))
  ]
  for (let i = jobs.length - 1; i > 0; i--) {
    const j = rng.int(0, i)
    ;[jobs[i], jobs[j]] = [jobs[j]!, jobs[i]!]
  }
  const all: Service[] = [...apis, ...workers]
  const before = all.map((s) => cpuMs(s.child.pid!))
  const answers = await pool(jobs, CONCURRENCY)
  t.equal(answers.filter((a) => is5xx(a.statusCode)).length, 0, `no 5xx (${JSON.stringify(tally(answers))})`)
  t.ok(answers.every((a) => a.statusCode === 200 || a.statusCode === 202), 'every delivery answered 200 or 202')

  const ids = fulfilments.map((f) => f.data.id as number)
  await waitFor(async () => (await env.sql`select count(*)::int as n from fulfilments where state = 'granted'`)[0]!.n === FULFILMENTS, 60_000, 'every fulfilment to be granted')
  await waitFor(async () => (await env.sql`select count(*)::int as n from webhook_events where state = 'processed'`)[0]!.n === FULFILMENTS + EVENTS, 60_000, 'every inbox row to be processed')
  const after = all.map((s) => cpuMs(s.child.pid!))

  const inbox = await env.sql`select event_id from webhook_events`
  t.equal(inbox.length, FULFILMENTS + EVENTS, 'one inbox row per distinct delivery: none lost, none doubled')
  const expected = new Set([...fulfilments, ...events].map((b) => String(b.event.id)))
  t.ok(inbox.every((r) => expected.has(r.event_id)), 'and they are the deliveries sent')
  const ledger = await env.sql`select fulfilment_id::text as id, count(*)::int as n, sum(amount)::int as amount from ledger_entries group by fulfilment_id`
  t.equal(ledger.length, FULFILMENTS, 'a ledger row for every fulfilment')
  t.ok(ledger.every((r) => r.n === 1), 'and only one each: no grant doubled')
  const amounts = new Map(fulfilments.map((f) => [String(f.data.id), f.data.amount as number]))
  t.ok(ledger.every((r) => amounts.get(r.id) === r.amount), 'each for the amount sent')
  t.same((await env.sql`select count(*)::int as n from fulfilments where id = any(${ids}::bigint[])`)[0], { n: FULFILMENTS })

  // Both processes of each kind took part, and what each cost (a 2-core machine shared with others).
  const grantsBy = workers.map((w) => w.lines.filter((l) => l.msg === 'fulfilment granted').length)
  t.equal(grantsBy[0]! + grantsBy[1]!, FULFILMENTS, `each fulfilment granted by exactly one worker (${grantsBy.join(' + ')})`)
  const cpu = all.map((s, i) => after[i]! - before[i]!)
  const deliveries = answers.length
  t.comment(`CPU per delivery (${deliveries} deliveries): api 1 ${(cpu[0]! / deliveries).toFixed(2)} ms, api 2 ${(cpu[1]! / deliveries).toFixed(2)} ms`)
  const jobsDone = FULFILMENTS + FULFILMENTS + EVENTS
  t.comment(`CPU per job (grants and events, ${jobsDone} in all): worker 1 ${(cpu[2]! / jobsDone * 2).toFixed(2)} ms, worker 2 ${(cpu[3]! / jobsDone * 2).toFixed(2)} ms (each process's CPU over half the jobs)`)
  t.ok(grantsBy.every((n) => n > 0), 'both workers granted')
})
