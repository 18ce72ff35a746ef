// The packed-install test: what a team gets from the registry, run as the root README says.
// Packs the packages the README's install line names (and the workspace packages they depend on),
// installs the tarballs with npm into a fresh project outside the workspace, writes the README's
// files as they stand, type-checks them, runs the server and a separate worker from the worker
// package's bin, and delivers a reward_created and a fulfilment_pending.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { builtinModules } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import postgres from 'postgres'
import t from 'tap'
import { TEST_REDIS_URL, createRedisPrefix, createTestDatabase } from '@fp-webhooks/testing'

const root = fileURLToPath(new URL('../../..', import.meta.url))
const SECRET = 'pack-test-secret-0123456789abcdef'

interface Manifest {
  name: string
  version: string
  private?: boolean
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

/** The workspace's packages by name. */
function workspace (): Map<string, { dir: string, manifest: Manifest }> {
  const found = new Map<string, { dir: string, manifest: Manifest }>()
  for (const parent of ['packages', 'apps']) {
    for (const name of readdirSync(join(root, parent))) {
      const dir = join(root, parent, name)
      try {
        const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest
        found.set(manifest.name, { dir, manifest })
      } catch {}
    }
  }
  return found
}

/** The README's section, its install line and its files (fenced blocks whose info string names a path). */
function readmeExample () {
  const readme = readFileSync(join(root, 'README.md'), 'utf8')
  const start = readme.indexOf('## Use it in your own Fastify server')
  if (start < 0) throw new Error('the README has no "Use it in your own Fastify server" section')
  const next = readme.indexOf('\n## ', start + 1)
  const section = readme.slice(start, next < 0 ? undefined : next)
  const install = section.split('\n').find((l) => l.startsWith('npm install '))
  if (!install) throw new Error('the section has no line starting "npm install "')
  const files = new Map<string, string>()
  for (const [, path, body] of section.matchAll(/```\w+ ([\w./-]+)\n([\s\S]*?)```/g)) files.set(path!, body!)
  return { install: install.slice('npm install '.length).trim().split(/\s+/), files }
}

/** Bare package names a TypeScript file imports. */
function importedPackages (source: string): string[] {
  const names = new Set<string>()
  for (const [, s] of source.matchAll(/\bfrom\s*['"]([^'"]+)['"]/g)) {
    if (s!.startsWith('.') || s!.startsWith('node:') || builtinModules.includes(s!)) continue
    const parts = s!.split('/')
    names.add(s!.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!)
  }
  return [...names]
}

function run (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  return { code: r.status, output: `${r.stdout ?? ''}${r.stderr ?? ''}` }
}

/** The same, without blocking: the compiles run side by side. */
function runAsync (cmd: string, args: string[], cwd: string): Promise<{ code: number | null, output: string }> {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })))
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise((resolve) => server.close(resolve))
  return port
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))
async function waitFor (what: string, predicate: () => Promise<boolean> | boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs
  while (!await predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(100)
  }
}

/** A long-running `npm run` script in its own process group, its output collected. */
function start (script: string, cwd: string, env: NodeJS.ProcessEnv) {
  const child: ChildProcess = spawn('npm', ['run', '--silent', script], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
  const out = { text: '' }
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out.text += d })
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { out.text += d })
  // 'close': npm and the node process it started have both exited and closed their output.
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    out,
    exited,
    async stop () {
      if (child.exitCode !== null || child.signalCode !== null) return
      try { process.kill(-child.pid!, 'SIGTERM') } catch {}
      const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL') } catch {} }, 10_000)
      await exited
      clearTimeout(timer)
    }
  }
}

const fixture = (name: string) => JSON.parse(readFileSync(join(root, 'packages/testing/fixtures', name), 'utf8'))
let nextId = 600_000_000 + Math.floor(Math.random() * 1_000_000) * 10
const uniqueId = () => ++nextId

t.test('the README example, from packed packages installed with npm, compiles and runs', async (t) => {
  const packages = workspace()
  const { install, files } = readmeExample()
  const ours = install.filter((name) => packages.has(name))
  const thirdParty = install.filter((name) => !packages.has(name))

  // Every package the example imports is on the install line.
  const imported = [...new Set([...files.entries()].filter(([p]) => p.endsWith('.ts')).flatMap(([, src]) => importedPackages(src)))]
  t.same(imported.filter((name) => !install.includes(name)), [], `the install line (${install.join(' ')}) names every package the example imports`)
  t.ok(ours.every((name) => packages.get(name)!.manifest.private !== true), 'every package on the install line is publishable')

  // Ours, and the workspace packages they depend on, as tarballs.
  const needed = new Set<string>()
  const visit = (name: string) => {
    if (needed.has(name)) return
    needed.add(name)
    for (const dep of Object.keys(packages.get(name)!.manifest.dependencies ?? {})) if (packages.has(dep)) visit(dep)
  }
  ours.forEach(visit)
  t.same([...needed].filter((name) => packages.get(name)!.manifest.private === true), [], 'nothing installed depends on a private package')

  const work = mkdtempSync(join(tmpdir(), 'fp-install-'))
  t.teardown(() => rmSync(work, { recursive: true, force: true }))
  const tarballs = join(work, 'tarballs')
  mkdirSync(tarballs)
  const tarballOf = new Map<string, string>()
  const sizes: string[] = []
  for (const name of needed) {
    const before = new Set(readdirSync(tarballs))
    const packed = run('pnpm', ['pack', '--pack-destination', tarballs], packages.get(name)!.dir)
    if (packed.code !== 0) t.fail(`pnpm pack ${name}: ${packed.output.slice(-1000)}`)
    const file = readdirSync(tarballs).find((f) => !before.has(f))!
    tarballOf.set(name, `file:${join(tarballs, file)}`)
    sizes.push(`${name} ${(statSync(join(tarballs, file)).size / 1024).toFixed(1)} kB`)
  }
  t.equal(tarballOf.size, needed.size, 'every package packed')
  t.comment(`tarballs: ${sizes.sort().join(', ')}`)

  // The consumer: the README's package.json, plus the dependencies its install lines name.
  const app = join(work, 'app')
  mkdirSync(app)
  const readmeManifest = JSON.parse(files.get('package.json') ?? '{}') as Record<string, unknown>
  t.equal(readmeManifest.type, 'module', 'the README says "type": "module"')
  const versionIn = (dep: string) => {
    for (const { manifest } of packages.values()) {
      const v = manifest.dependencies?.[dep] ?? manifest.devDependencies?.[dep]
      if (v && !v.startsWith('workspace:')) return v
    }
    return 'latest'
  }
  const overrides = Object.fromEntries(tarballOf)
  writeFileSync(join(app, 'package.json'), JSON.stringify({
    name: 'fresh-consumer',
    private: true,
    ...readmeManifest,
    dependencies: {
      ...Object.fromEntries(thirdParty.map((d) => [d, versionIn(d)])),
      ...Object.fromEntries(ours.map((d) => [d, tarballOf.get(d)!]))
    },
    devDependencies: { typescript: versionIn('typescript'), '@types/node': versionIn('@types/node') },
    overrides
  }, null, 2))
  const started = Date.now()
  const npm = run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], app)
  t.equal(npm.code, 0, `npm install: ${npm.output.slice(-2000)}`)
  t.comment(`npm install: ${((Date.now() - started) / 1000).toFixed(1)} s`)

  for (const [path, body] of files) {
    if (path === 'package.json') continue
    mkdirSync(dirname(join(app, path)), { recursive: true })
    writeFileSync(join(app, path), body)
  }
  const typeTests = join(app, 'types', 'public-api.ts')
  mkdirSync(dirname(typeTests))
  copyFileSync(join(root, 'packages/worker/test/types/public-api.ts'), typeTests)

  // Strict, ESM, under both resolutions: the README's tsconfig (node16) builds it; bundler checks it.
  const tsc = join(app, 'node_modules', 'typescript', 'bin', 'tsc')
  const compiles: Array<[string, string[]]> = [
    ['tsc (the README tsconfig: node16, emitting dist)', [tsc, '-p', '.']],
    ['tsc (moduleResolution bundler)', [tsc, '-p', '.', '--noEmit', '--module', 'esnext', '--moduleResolution', 'bundler']],
    ...[['node16', 'node16'], ['esnext', 'bundler']].map(([module, resolution]): [string, string[]] => [
      `type tests of the public API (moduleResolution ${resolution})`,
      [tsc, '--noEmit', '--strict', '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--module', module!, '--moduleResolution', resolution!, 'types/public-api.ts']
    ])
  ]
  const compiled = await Promise.all(compiles.map(([, args]) => runAsync(process.execPath, args, app)))
  compiles.forEach(([what], i) => t.equal(compiled[i]!.code, 0, `${what}${compiled[i]!.output ? `: ${compiled[i]!.output}` : ''}`))

  // Run it: the server (it migrates its database) and the worker, as two processes.
  const { url } = await createTestDatabase(t, { migrated: false })
  const prefix = createRedisPrefix(t)
  const port = await freePort()
  const env = { ...process.env, DATABASE_URL: url, REDIS_URL: TEST_REDIS_URL, QUEUE_PREFIX: prefix, FP_WEBHOOK_SECRET: SECRET, PORT: String(port), LOG_LEVEL: 'info' }
  const server = start('start', app, env)
  t.teardown(() => server.stop())
  await waitFor(`the server to listen (${server.out.text.slice(-500)})`, () => server.out.text.includes('Server listening'), 60_000)

  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(() => sql.end({ timeout: 5 }))
  // The team's own table, written by its grant function.
  await sql`create table credit_grants (reward_id bigint primary key, beneficiary text not null, amount int not null, idempotency_key text not null)`

  const worker = start('worker', app, env)
  t.teardown(() => worker.stop())
  await waitFor(`the worker to start (${worker.out.text.slice(-500)})`, () => worker.out.text.includes('worker ready'), 60_000)
  t.match(worker.out.text, /definition module loaded/, 'the worker loaded the definition module')

  const deliver = async (body: unknown) => {
    const res = await fetch(`http://127.0.0.1:${port}/webhooks/firstpromoter/${SECRET}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    return { status: res.status, body: await res.json() as Record<string, unknown> }
  }

  const reward = fixture('reward_created.json')
  reward.event.id = uniqueId()
  reward.data.id = uniqueId()
  t.equal((await deliver(reward)).status, 200, 'reward_created: 200')
  const line = `reward ${String(reward.data.id)} created`
  await waitFor('the reward handler', () => worker.out.text.includes(line))
  await waitFor('the reward event processed', async () => (await sql`select state from webhook_events where event_id = ${String(reward.event.id)}`)[0]?.state === 'processed')
  await sleep(500)
  t.equal(worker.out.text.split(line).length - 1, 1, 'its handler ran once, in the worker')
  t.notMatch(server.out.text, new RegExp(line), 'and never in the server')

  const fulfilment = fixture('fulfilment_pending.json')
  fulfilment.event.id = uniqueId()
  fulfilment.data.id = uniqueId()
  fulfilment.data.unit = 'credits'
  fulfilment.data.reward.unit = 'credits'
  fulfilment.data.amount = 3
  const first = await deliver(fulfilment)
  t.ok([200, 202].includes(first.status), `fulfilment_pending: ${first.status} ${JSON.stringify(first.body)}`)
  await waitFor('the grant', async () => (await sql`select 1 from credit_grants where reward_id = ${fulfilment.data.id}`).length === 1)
  const again = await deliver({ ...fulfilment, event: { ...fulfilment.event, id: uniqueId() } })
  t.same(again, { status: 200, body: { fulfilment_id: fulfilment.data.id, state: 'granted' } }, 'the re-fire gets 200 granted')
  t.same(await sql`select reward_id::int, amount, idempotency_key from credit_grants`, [{ reward_id: fulfilment.data.id, amount: 3, idempotency_key: `firstpromoter-fulfilment-${fulfilment.data.id}` }], "granted once, by the definition's grant function")
  t.same(await sql`select count(*)::int as n from ledger_entries where fulfilment_id = ${fulfilment.data.id}`, [{ n: 1 }], 'one ledger row')

  await worker.stop()
  await server.stop()
  t.match(worker.out.text, /worker stopped/, 'the worker drained and stopped on SIGTERM')
})
