import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = fileURLToPath(new URL('../../..', import.meta.url))

interface Manifest {
  name: string
  private?: boolean
  type?: string
  engines?: { node?: string }
  exports?: Record<string, unknown>
  files?: string[]
  bin?: Record<string, string>
  dependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
}

interface Packed { name: string, size: number, unpackedSize: number, files: Array<{ path: string }> }

/** Every workspace package that is not private: the ones a team installs. */
function publishable (): Array<{ dir: string, manifest: Manifest }> {
  const found = []
  for (const parent of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, parent))) {
      const dir = join(root, parent, name)
      let manifest: Manifest
      try {
        manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest
      } catch {
        continue
      }
      if (manifest.private !== true) found.push({ dir, manifest })
    }
  }
  return found
}

const packages = publishable()
const EXPECTED = [
  '@fp-webhooks/cli', '@fp-webhooks/config', '@fp-webhooks/console', '@fp-webhooks/db',
  '@fp-webhooks/firstpromoter-api', '@fp-webhooks/operations', '@fp-webhooks/queue', '@fp-webhooks/worker', 'fastify-firstpromoter'
]
const FORBIDDEN = [
  { what: 'tests', re: /(^|\/)(test|tests|__tests__)\/|\.test\.[cm]?[jt]s(\.map)?$/ },
  { what: 'coverage', re: /(^|\/)(coverage|\.nyc_output)\/|coverage.*\.json$/ },
  { what: 'tap output', re: /(^|\/)\.tap(\/|$)/ },
  { what: '.tsbuildinfo files', re: /\.tsbuildinfo$/ },
  { what: 'TypeScript sources', re: /^src\/|(?<!\.d)\.ts$/ },
  { what: 'tsconfigs', re: /(^|\/)tsconfig[^/]*\.json$/ }
]

/** The package a bare specifier names (`@scope/name/sub` → `@scope/name`). */
function packageOf (specifier: string): string {
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!
}

/** Bare specifiers that the published JavaScript and declarations import. */
function importsOf (dir: string, files: string[]): Set<string> {
  const specifiers = new Set<string>()
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g
  for (const file of files.filter((f) => /\.(js|d\.ts)$/.test(f))) {
    for (const [, s] of readFileSync(join(dir, file), 'utf8').matchAll(re)) {
      if (s!.startsWith('.') || s!.startsWith('node:') || builtinModules.includes(s!)) continue
      specifiers.add(packageOf(s!))
    }
  }
  return specifiers
}

t.test('the publishable packages are the ones the layout names', async (t) => {
  t.same(packages.map((p) => p.manifest.name).sort(), [...EXPECTED].sort())
})

const sizes: Record<string, { tarball: number, unpacked: number, files: number }> = {}

for (const { dir, manifest } of packages) {
  t.test(`${manifest.name}: npm pack lists only what runs`, async (t) => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    const [packed] = JSON.parse(out) as Packed[]
    const files = packed!.files.map((f) => f.path)
    sizes[manifest.name] = { tarball: packed!.size, unpacked: packed!.unpackedSize, files: files.length }
    for (const { what, re } of FORBIDDEN) {
      t.same(files.filter((f) => re.test(f)), [], `no ${what} in the tarball`)
    }
    t.ok(files.includes('README.md'), 'a README')
    t.ok(files.some((f) => f.startsWith('dist/')), 'the built code')
    if (manifest.name === '@fp-webhooks/db') t.ok(files.some((f) => /^drizzle\/.*\.sql$/.test(f)), 'the migrations')
    if (manifest.name === '@fp-webhooks/console') t.ok(files.some((f) => f.startsWith('views/')) && files.some((f) => f.startsWith('public/')), 'views and assets')

    t.equal(manifest.type, 'module', 'ESM')
    t.match(readFileSync(join(dir, 'README.md'), 'utf8'), /ESM only/, 'the README says ESM only')
    t.ok(manifest.engines?.node, 'engines.node')
    const main = manifest.exports?.['.'] as { types?: string, default?: string } | undefined
    t.ok(main?.types && files.includes(main.types.replace(/^\.\//, '')), 'exports "." has types, and they are published')
    t.ok(main?.default && files.includes(main.default.replace(/^\.\//, '')), 'exports "." has a published default')
    for (const [bin, target] of Object.entries(manifest.bin ?? {})) {
      const path = target.replace(/^\.\//, '')
      t.ok(files.includes(path), `bin ${bin} is published`)
      t.match(readFileSync(join(dir, path), 'utf8'), /^#!\/usr\/bin\/env node\n/, `bin ${bin} has a node shebang`)
    }

    // Nothing may work only because the workspace hoists it: each import is a declared dependency.
    const declared = new Set([
      ...Object.keys(manifest.dependencies ?? {}),
      ...Object.keys(manifest.peerDependencies ?? {})
    ])
    t.same([...importsOf(dir, files)].filter((s) => !declared.has(s)).sort(), [], 'every import is a dependency or peer dependency')
  })
}

t.test('bins', async (t) => {
  const bins = Object.fromEntries(
    packages.flatMap((p) => Object.keys(p.manifest.bin ?? {}).map((b) => [b, p.manifest.name]))
  )
  t.same(bins, { 'firstpromoter-webhooks': '@fp-webhooks/cli', 'firstpromoter-webhooks-worker': '@fp-webhooks/worker' })
})

t.teardown(() => {
  // Shown in the test's output, for the release notes.
  t.comment(`tarball sizes: ${JSON.stringify(sizes)}`)
})

const pluginDir = join(root, 'packages', 'fastify-firstpromoter')
const require = createRequire(join(pluginDir, 'package.json'))

/** Where a dependency of the plugin lives, so the fixture can use it without a registry. */
function depDir (name: string): string {
  let dir = dirname(realpathSync(require.resolve(name)))
  while (!readdirSync(dir).includes('package.json')) dir = dirname(dir)
  return dir
}

t.test('the plugin tarball installs into a fresh app outside the workspace and registers', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'fp-pack-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  execFileSync('pnpm', ['pack', '--pack-destination', work], { cwd: pluginDir, stdio: 'ignore' })
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
