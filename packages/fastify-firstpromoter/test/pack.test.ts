import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const pkgDir = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(join(pkgDir, 'package.json'))

/** Where a dependency of the plugin lives, so the fixture can use it without a registry. */
function depDir (name: string): string {
  let dir = dirname(realpathSync(require.resolve(name)))
  while (!readdirSync(dir).includes('package.json')) dir = dirname(dir)
  return dir
}

t.test('the packed tarball installs into a fresh app outside the workspace and registers', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'fp-pack-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  execFileSync('pnpm', ['pack', '--pack-destination', work], { cwd: pkgDir, stdio: 'ignore' })
  const tarball = readdirSync(work).find((f) => f.endsWith('.tgz'))
  t.ok(tarball, 'pnpm pack produced a tarball')

  const app = join(work, 'app')
  const installed = join(app, 'node_modules', 'fastify-firstpromoter')
  mkdirSync(installed, { recursive: true })
  execFileSync('tar', ['-xzf', join(work, tarball!), '-C', installed, '--strip-components=1'])
  const files = readdirSync(installed).sort()
  t.same(files, ['README.md', 'dist', 'package.json'], 'only dist, README and package.json are published')
  t.notOk(readdirSync(join(installed, 'dist')).some((f) => f.endsWith('.test.js')), 'no tests in dist')

  // The plugin's runtime dependencies and fastify, as an installer would place them.
  for (const dep of ['fastify', 'fastify-plugin', '@sinclair/typebox', '@fastify/error', 'secure-json-parse']) {
    const target = join(app, 'node_modules', dep)
    mkdirSync(dirname(target), { recursive: true })
    symlinkSync(depDir(dep), target, 'dir')
  }
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fresh-app', type: 'module', private: true }))
  writeFileSync(join(app, 'server.mjs'), `
import Fastify from 'fastify'
import fastifyFirstPromoter, { fastifyFirstPromoter as named, V1EnvelopeSchema } from 'fastify-firstpromoter'
const rows = []
const store = {
  async record (d) { rows.push(d); return { inboxId: rows.length, duplicate: false, ...(d.fulfilment ? { fulfilment: { id: d.fulfilment.id, state: 'granted', failureReason: null } } : {}) } },
  async quarantine () {}, async settleAnswer () { return null }, async noteAnswer () {}
}
const dispatcher = { async enqueueEvent () {}, async enqueueGrant () {}, async waitForGrant () {} }
const app = Fastify()
await app.register(fastifyFirstPromoter, { secrets: 'fresh-app-secret-0123456789', store, dispatcher })
const res = await app.inject({ method: 'POST', url: '/webhooks/firstpromoter/fresh-app-secret-0123456789', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ event: { id: 1, type: 'lead_signup' }, data: { id: 2 } }) })
console.log(JSON.stringify({ status: res.statusCode, rows: rows.length, same: named === fastifyFirstPromoter, schema: typeof V1EnvelopeSchema }))
await app.close()
`)
  const run = spawnSync(process.execPath, ['server.mjs'], { cwd: app, encoding: 'utf8' })
  t.equal(run.status, 0, run.stderr)
  t.same(JSON.parse(run.stdout.trim()), { status: 200, rows: 1, same: true, schema: 'object' })

  // The published types resolve for a TypeScript consumer.
  writeFileSync(join(app, 'check.ts'), `
import fastifyFirstPromoter, { type FastifyFirstPromoterOptions, type V1EventDataByType } from 'fastify-firstpromoter'
const amount: V1EventDataByType['fulfilment_pending']['amount'] = 3
const options: Partial<FastifyFirstPromoterOptions> = { fulfilmentWaitMs: 1000 }
export { fastifyFirstPromoter, amount, options }
`)
  const tsc = join(depDir('typescript'), 'bin', 'tsc')
  const check = spawnSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--skipLibCheck', 'check.ts'], { cwd: app, encoding: 'utf8' })
  t.equal(check.status, 0, check.stdout + check.stderr)
})
