#!/usr/bin/env node
// `pnpm start`: apply migrations, then run the api and the worker as two processes sharing this
// terminal. A signal is passed on to both; when either exits, the other is stopped too.
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const migrate = spawnSync(process.execPath, ['packages/db/dist/cli.js'], { cwd: root, stdio: 'inherit' })
if (migrate.status !== 0) process.exit(migrate.status ?? 1)

const children = ['apps/api/dist/bin.js', 'apps/worker/dist/bin.js'].map((entry) =>
  spawn(process.execPath, [entry], { cwd: root, stdio: 'inherit' })
)
let exitCode = 0
let stopping = false
const stopAll = (signal) => {
  stopping = true
  for (const child of children) if (child.exitCode === null) child.kill(signal)
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(signal))
for (const child of children) {
  child.on('exit', (code) => {
    if (code) exitCode = code
    if (!stopping) stopAll('SIGTERM')
    if (children.every((c) => c.exitCode !== null || c.signalCode !== null)) process.exit(exitCode)
  })
}
