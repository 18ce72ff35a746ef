// CPU time actually spent per request or job, read from /proc: less sensitive to a busy neighbour
// than throughput, since a process is only charged for the time it ran.
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import postgres from 'postgres'
import { dbUrl } from './infra.mjs'

let ticks = 100
try { ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100 } catch {}

/** user + system CPU of a process so far, in ms; null once it is gone. */
export function processCpuMs (pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 1000 / ticks
  } catch {
    return null
  }
}

/**
 * Meters the CPU of some processes and of the Postgres backends serving one database (found in
 * pg_stat_activity; Postgres runs on this machine). `start()` then `stop()` give the CPU spent in
 * between, in ms: `{ procs, pg, byPid }`.
 */
export function cpuMeter (pids, database) {
  let before
  const backends = async () => {
    if (!database) return []
    const sql = postgres(dbUrl('postgres'), { max: 1, onnotice: () => {} })
    try {
      return (await sql`select pid from pg_stat_activity where datname = ${database}`).map((r) => r.pid)
    } finally {
      await sql.end()
    }
  }
  const read = async () => {
    const pg = new Map()
    for (const pid of await backends()) pg.set(pid, processCpuMs(pid) ?? 0)
    const procs = new Map(pids.map((pid) => [pid, processCpuMs(pid) ?? 0]))
    return { pg, procs }
  }
  return {
    async start () { before = await read() },
    async stop () {
      const after = await read()
      let procs = 0
      let pg = 0
      const byPid = {}
      for (const [pid, ms] of after.procs) {
        byPid[pid] = ms - (before.procs.get(pid) ?? 0)
        procs += byPid[pid]
      }
      // A backend that started during the interval is charged in full.
      for (const [pid, ms] of after.pg) pg += ms - (before.pg.get(pid) ?? 0)
      return { procs, pg, byPid }
    }
  }
}
