// The public API's type tests (test/types/public-api.ts) compiled as a consumer would: strict, ESM,
// under moduleResolution node16 and bundler, against the built package (its `exports` and .d.ts).
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// Two compiles of the whole public API's types on a small machine.
t.setTimeout(180_000)

const pkgDir = fileURLToPath(new URL('..', import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
const file = 'test/types/public-api.ts'

const MODES = {
  node16: ['--module', 'node16', '--moduleResolution', 'node16'],
  bundler: ['--module', 'esnext', '--moduleResolution', 'bundler']
} as const

function compile (flags: readonly string[]): Promise<{ code: number | null, output: string }> {
  const child = spawn(process.execPath, [tsc, '--noEmit', '--strict', '--target', 'es2022', '--skipLibCheck', '--types', 'node', ...flags, file], { cwd: pkgDir })
  let output = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => { output += d })
  child.stderr.setEncoding('utf8').on('data', (d: string) => { output += d })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })))
}

t.test('the public API type-checks as documented under node16 and bundler resolution', async (t) => {
  const modes = Object.entries(MODES)
  const runs = await Promise.all(modes.map(([, flags]) => compile(flags)))
  modes.forEach(([mode], i) => t.equal(runs[i]!.code, 0, `moduleResolution ${mode}: ${runs[i]!.output}`))
})
