#!/usr/bin/env node
// `pnpm start`: check the configuration of both processes, apply migrations, then run the api and
// the worker as two supervised processes sharing this terminal's output.
//
// Signals. Each child runs in a process group of its own (detached), so that Ctrl-C in a terminal,
// which signals the whole foreground group, reaches this script only; it passes each signal on
// once. pnpm forwards the signal it received to this script too (`pnpm start` execs node, so the
// shell in between does not swallow it), so the same signal may arrive twice within a few ms: a
// repeat within DUPLICATE_SIGNAL_MS is ignored. A later one is passed on, and the children then
// exit without draining. The children also drain and exit by themselves when this script dies
// (their IPC channel to it closes; see closeGracefully in packages/config).
//
// Restarts. A child that exits on its own after it was ready once is started again, the other left
// running; the delay doubles from START_RESTART_DELAY_MS up to START_RESTART_MAX_DELAY_MS and
// falls back to the first after a run of START_HEALTHY_RUN_MS. A child that fails before it is
// ready the first time (port in use, Redis unreachable) stops everything: a start-up error is
// reported once, not looped on.
import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const CHILDREN = { api: 'apps/api/dist/bin.js', worker: 'packages/worker/dist/bin.js' }
const DUPLICATE_SIGNAL_MS = 1000
// After the children's own drain time, a child still running is killed.
const KILL_MARGIN_MS = 5000

/** One JSON line on stdout, shaped like the children's pino lines. */
function log (level, msg, fields = {}) {
  const levels = { info: 30, warn: 40, error: 50 }
  process.stdout.write(JSON.stringify({ level: levels[level], time: Date.now(), pid: process.pid, name: 'start', ...fields, msg }) + '\n')
}

function positiveInt (name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  if (!Number.isInteger(n) || n < 1) {
    console.error(`start: Invalid configuration: ${name} must be a positive integer`)
    process.exit(1)
  }
  return n
}

// 1. Configuration, before anything is touched: both processes' variables, as they read them
// (a .env in the working directory fills what the environment leaves unset; the children inherit it).
const { loadDotEnv } = await import('../packages/config/dist/index.js')
loadDotEnv()
const { loadApiConfig } = await import('../apps/api/dist/config.js')
const { loadWorkerConfig } = await import('../packages/worker/dist/config.js')
const problems = new Set()
const configs = {}
for (const [name, load] of [['api', loadApiConfig], ['worker', loadWorkerConfig]]) {
  try {
    configs[name] = load(process.env)
  } catch (err) {
    if (err?.name !== 'ConfigError') throw err
    for (const problem of err.problems) problems.add(problem)
  }
}
if (problems.size > 0) {
  console.error(`start: Invalid configuration: ${[...problems].join('; ')}`)
  process.exit(1)
}
const restartDelayMs = positiveInt('START_RESTART_DELAY_MS', 1000)
const restartMaxDelayMs = positiveInt('START_RESTART_MAX_DELAY_MS', 30_000)
const healthyRunMs = positiveInt('START_HEALTHY_RUN_MS', 60_000)
const stopTimeoutMs = Math.max(configs.api.SHUTDOWN_TIMEOUT_MS, configs.worker.SHUTDOWN_TIMEOUT_MS) + KILL_MARGIN_MS

// 2. Migrations (this also creates the database if it is missing).
const migrate = spawnSync(process.execPath, ['packages/db/dist/cli.js'], { cwd: root, stdio: 'inherit' })
if (migrate.status !== 0) process.exit(migrate.status ?? 1)

// 3. The children.
const services = Object.fromEntries(Object.keys(CHILDREN).map((name) => [name, {
  name,
  child: null,
  startedAt: 0,
  readyAt: 0,
  everReady: false,
  failures: 0,
  restarts: 0,
  restartTimer: null
}]))
let stopping = false
let exitCode = 0
let lastSignalAt = 0

function start (service) {
  service.restartTimer = null
  const child = spawn(process.execPath, [CHILDREN[service.name]], {
    cwd: root,
    // fd 3 is the IPC channel: the child says when it is ready, and notices when this script dies.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    detached: true
  })
  service.child = child
  service.startedAt = Date.now()
  service.readyAt = 0
  child.on('message', (message) => {
    if (message?.ready !== service.name) return
    service.readyAt = Date.now()
    service.everReady = true
    log('info', `${service.name} ready`, { process: service.name, childPid: child.pid })
  })
  child.on('error', (err) => log('error', `${service.name} could not be started`, { process: service.name, err: { message: err.message } }))
  child.on('exit', (code, signal) => onExit(service, code, signal))
  log('info', `${service.name} started`, { process: service.name, childPid: child.pid })
}

const running = () => Object.values(services)
  .filter((s) => s.child && s.child.exitCode === null && s.child.signalCode === null)

function onExit (service, code, signal) {
  if (stopping) {
    if (code !== 0) exitCode = 1
    if (running().length === 0) process.exit(exitCode)
    return
  }
  if (!service.everReady) {
    log('error', `${service.name} exited before it was ready; stopping`, { process: service.name, code, signal })
    exitCode = code || 1
    stop('SIGTERM')
    return
  }
  if (service.readyAt && Date.now() - service.readyAt >= healthyRunMs) service.failures = 0
  const delayMs = Math.min(restartDelayMs * 2 ** service.failures, restartMaxDelayMs)
  service.failures++
  service.restarts++
  log('warn', `${service.name} exited; restarting in ${delayMs} ms`, { process: service.name, code, signal, restart: service.restarts, delayMs })
  service.restartTimer = setTimeout(() => start(service), delayMs)
}

/** Passes `signal` on to each running child, once; cancels pending restarts. */
function stop (signal) {
  stopping = true
  for (const service of Object.values(services)) {
    if (service.restartTimer) clearTimeout(service.restartTimer)
    service.restartTimer = null
  }
  const live = running()
  if (live.length === 0) process.exit(exitCode)
  for (const service of live) service.child.kill(signal)
  setTimeout(() => {
    for (const service of running()) {
      log('error', `${service.name} still running ${stopTimeoutMs} ms after ${signal}; killing it`, { process: service.name })
      service.child.kill('SIGKILL')
    }
  }, stopTimeoutMs).unref()
}

function onSignal (signal) {
  const now = Date.now()
  if (now - lastSignalAt < DUPLICATE_SIGNAL_MS) return
  lastSignalAt = now
  log('info', stopping ? `${signal} again: passing it on` : `${signal}: stopping api and worker`, { signal })
  // The children have no terminal of their own: a hang-up means stop.
  stop(signal === 'SIGHUP' ? 'SIGTERM' : signal)
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => onSignal(signal))

for (const service of Object.values(services)) start(service)
