import { execFile } from 'node:child_process'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import t from 'tap'

// The built declarations, as a TypeScript consumer reads them, without skipLibCheck: every
// moduleResolution a team may use (the packed-install test does the same from tarballs).
const pkgDir = fileURLToPath(new URL('..', import.meta.url))
const require = createRequire(join(pkgDir, 'package.json'))
const tsc = join(dirname(realpathSync(require.resolve('typescript/package.json'))), 'bin', 'tsc')
const typesNode = dirname(realpathSync(createRequire(join(pkgDir, '..', '..', 'package.json')).resolve('@types/node/package.json')))

const consumer = `
import fastify from 'fastify'
import fastifyFirstPromoter, { FST_FIRSTPROMOTER_OPTIONS, type FastifyFirstPromoterOptions } from 'fastify-firstpromoter'
const err = new FST_FIRSTPROMOTER_OPTIONS('secrets')
const code: 'FST_FIRSTPROMOTER_OPTIONS' = err.code
const status: 500 = err.statusCode
const options: Partial<FastifyFirstPromoterOptions> = { fulfilmentWaitMs: 1000 }
const app = fastify()
export { app, code, status, options, fastifyFirstPromoter }
`

const resolutions = [
  { moduleResolution: 'bundler', module: 'esnext' },
  { moduleResolution: 'node16', module: 'node16' }
]

// Each tsc run checks all of fastify's declarations: tens of seconds on a busy 2-core machine.
t.setTimeout(240_000)
for (const { moduleResolution, module } of resolutions) {
  t.test(`the declarations type-check with moduleResolution ${moduleResolution}, skipLibCheck off`, async (t) => {
    const app = mkdtempSync(join(tmpdir(), 'fp-types-'))
    t.teardown(() => rmSync(app, { recursive: true, force: true }))
    mkdirSync(join(app, 'node_modules', '@types'), { recursive: true })
    symlinkSync(pkgDir, join(app, 'node_modules', 'fastify-firstpromoter'), 'dir')
    symlinkSync(dirname(realpathSync(require.resolve('fastify/package.json'))), join(app, 'node_modules', 'fastify'), 'dir')
    symlinkSync(typesNode, join(app, 'node_modules', '@types', 'node'), 'dir')
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }))
    writeFileSync(join(app, 'consumer.ts'), consumer)
    const run = await promisify(execFile)(process.execPath, [tsc, '--noEmit', '--strict', '--module', module,
      '--moduleResolution', moduleResolution, '--target', 'es2022', '--types', 'node', 'consumer.ts'], { cwd: app })
      .then(() => ({ code: 0, output: '' }), (err: { code: number, stdout: string, stderr: string }) => ({ code: err.code, output: err.stdout + err.stderr }))
    t.equal(run.code, 0, run.output)
  })
}
