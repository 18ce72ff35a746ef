// The plugin's request path alone: an in-process loop of `app.inject` on a v1 event over a no-op
// store and dispatcher (no Postgres, no Redis, no sockets). Compares builds side by side, in one
// process, round by round, so that load on the machine hits each alike:
//   node bench/src/plugin-inject.mjs before=/path/to/old/dist/index.js \
//     after=packages/fastify-firstpromoter/dist/index.js
// N (requests a round, default 20000) and ROUNDS (default 5) from the environment. Wall time and
// CPU time per round; on a shared machine the CPU time is the steadier figure.
import { createRequire } from 'node:module'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const args = process.argv.length > 2 ? process.argv.slice(2) : ['plugin=packages/fastify-firstpromoter/dist/index.js']
const builds = args.map((arg) => {
  const [name, path] = arg.split('=')
  return { name, path: resolve(path), times: [], cpu: [] }
})
const Fastify = createRequire(builds[0].path)('fastify')

const SECRET = 'bench-secret-0123456789abcdef'
const N = Number(process.env.N ?? 20000)
const ROUNDS = Number(process.env.ROUNDS ?? 5)
const body = JSON.stringify({
  event: { id: 22737431, type: 'reward_created', created_at: '2024-10-03T12:45:20.000Z' },
  data: { id: 5546, status: 'approved', amount: 1500, unit: 'cash', event_id: 22737431, promoter: { id: 1234, cust_id: 'cus_1', email: 'p@example.com', auth_token: 'tok', default_webhook_url: 'https://x.example/webhooks/firstpromoter/abc' }, lead: { id: 99, email: 'l@example.com', uid: 'u1' } }
})
const store = {
  async record () { return { inboxId: 1, duplicate: false } },
  async quarantine () {},
  async settleAnswer () { return null },
  async noteAnswer () {},
  // Required by builds before the store lost it, so that they can be compared too.
  async fulfilmentStatus () { return null }
}
const dispatcher = { async enqueueEvent () {}, async enqueueGrant () {}, async waitForGrant () {} }

async function build (path) {
  const plugin = (await import(pathToFileURL(path).href)).default
  const app = Fastify({ logger: false })
  await app.register(plugin, { secrets: SECRET, store, dispatcher })
  await app.ready()
  return app
}
for (const b of builds) b.app = await build(b.path)
const opts = { method: 'POST', url: `/webhooks/firstpromoter/${SECRET}`, headers: { 'content-type': 'application/json' }, payload: body }
for (const b of builds) for (let i = 0; i < 2000; i++) { const r = await b.app.inject(opts); if (r.statusCode !== 200) throw new Error(`${b.name}: ${r.statusCode} ${r.body}`) }
for (let round = 0; round < ROUNDS; round++) {
  for (const b of builds) {
    const t0 = process.hrtime.bigint()
    const c0 = process.cpuUsage()
    for (let i = 0; i < N; i++) await b.app.inject(opts)
    const c = process.cpuUsage(c0)
    b.times.push(Number(process.hrtime.bigint() - t0) / 1e6)
    b.cpu.push((c.user + c.system) / 1000)
  }
}
for (const b of builds) {
  const sorted = [...b.times].sort((a, c) => a - c)
  const median = sorted[Math.floor(sorted.length / 2)]
  console.log(`${b.name}: ${N} requests x ${ROUNDS} rounds; best ${sorted[0].toFixed(0)} ms (${(N / sorted[0] * 1000).toFixed(0)} req/s); median ${median.toFixed(0)} ms (${(N / median * 1000).toFixed(0)} req/s); rounds ${b.times.map((x) => x.toFixed(0)).join(' ')}`)
  const cpu = [...b.cpu].sort((a, c) => a - c)
  console.log(`  cpu ms per round: median ${cpu[Math.floor(cpu.length / 2)].toFixed(0)} (${(cpu[Math.floor(cpu.length / 2)] * 1000 / N).toFixed(1)} us/request), best ${cpu[0].toFixed(0)}`)
  await b.app.close()
}
