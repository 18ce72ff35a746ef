// Servers and workers under test run in child processes of their own (`node <script>`), so the load
// generator, the api and the workers are separate processes as in production. Each child reports
// `{ type: 'ready', port? }` over IPC when it can take work; its stdout/stderr go to a log file.
import { fork } from 'node:child_process'
import { mkdirSync, openSync, readFileSync, closeSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const BENCH_DIR = fileURLToPath(new URL('../../', import.meta.url))
export const LOG_DIR = `${BENCH_DIR}logs`
export const PROFILE_DIR = `${BENCH_DIR}profiles`

const live = new Set()

/**
 * Starts `src/servers/<script>` and waits for its ready message.
 * @param opts.env extra environment; opts.cpuProf writes a .cpuprofile on exit to PROFILE_DIR
 */
export async function startChild (script, { name, env = {}, cpuProf = false, readyTimeoutMs = 60_000 } = {}) {
  mkdirSync(LOG_DIR, { recursive: true })
  const logPath = `${LOG_DIR}/${name}.log`
  const fd = openSync(logPath, 'a')
  const execArgv = ['--expose-gc']
  if (cpuProf) {
    mkdirSync(PROFILE_DIR, { recursive: true })
    execArgv.push('--cpu-prof', '--cpu-prof-dir', PROFILE_DIR, '--cpu-prof-name', `${name}.${Date.now()}.cpuprofile`)
  }
  const child = fork(fileURLToPath(new URL(`../servers/${script}`, import.meta.url)), [], {
    env: { ...process.env, ...env },
    execArgv,
    stdio: ['ignore', fd, fd, 'ipc']
  })
  closeSync(fd)
  live.add(child)
  child.once('exit', () => live.delete(child))

  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { cleanup(); reject(new Error(`${name} not ready after ${readyTimeoutMs} ms (see ${logPath})`)) }, readyTimeoutMs)
    const onMessage = (m) => { if (m?.type === 'ready') { cleanup(); resolve(m) } }
    const onExit = (code, signal) => { cleanup(); reject(new Error(`${name} exited before it was ready (code ${code}, signal ${signal}; see ${logPath})`)) }
    const cleanup = () => { clearTimeout(timer); child.off('message', onMessage); child.off('exit', onExit) }
    child.on('message', onMessage)
    child.once('exit', onExit)
  }).catch((err) => { child.kill('SIGKILL'); throw err })

  return {
    name,
    child,
    pid: child.pid,
    port: ready.port,
    logPath,
    rssMb: () => rssMb(child.pid),
    memory: () => probeMemory(child),
    stop: () => stopChild(child)
  }
}

let probes = 0

/** The child's memory after a full GC, in MB: `{ rss, heapUsed, external }` (see servers/common.mjs). */
export function probeMemory (child, timeoutMs = 10_000) {
  const id = ++probes
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.off('message', onMessage); reject(new Error(`no memory answer after ${timeoutMs} ms`)) }, timeoutMs)
    const onMessage = (m) => {
      if (m?.type !== 'memory' || m.id !== id) return
      clearTimeout(timer)
      child.off('message', onMessage)
      if (!m.collected) return reject(new Error('the child ran without --expose-gc'))
      const mb = (n) => n / 1024 / 1024
      resolve({ rss: mb(m.rss), heapUsed: mb(m.heapUsed), external: mb(m.external) })
    }
    child.on('message', onMessage)
    child.send({ type: 'memory', id })
  })
}

/** SIGTERM (the child closes gracefully), SIGKILL after `graceMs`. */
export async function stopChild (child, graceMs = 15_000) {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  await exited
  clearTimeout(timer)
}

export async function stopAll () {
  await Promise.all([...live].map((c) => stopChild(c, 5000)))
}

/** Resident set size of a process in MB, from /proc/<pid>/status (VmRSS); null once it is gone. */
export function rssMb (pid) {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m ? Number(m[1]) / 1024 : null
  } catch {
    return null
  }
}
