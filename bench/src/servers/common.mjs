// Shared by the child processes: a ready message, graceful stop on SIGTERM, a minimal logger.

/** Tells the parent the child can take work, and answers its memory probes from then on. */
export function ready (extra = {}) {
  process.on('message', answerMemoryProbe)
  process.send?.({ type: 'ready', pid: process.pid, ...extra })
}

// `{ type: 'memory', id }` from the parent: a full GC (the child runs with --expose-gc), then
// process.memoryUsage(). What survives a full GC is what the process holds; RSS sampled at a random
// moment also holds garbage not yet collected, which swings by tens of MB with the GC cycle.
function answerMemoryProbe (m) {
  if (m?.type !== 'memory') return
  globalThis.gc?.()
  process.send?.({ type: 'memory', id: m.id, collected: typeof globalThis.gc === 'function', ...process.memoryUsage() })
}

/** Runs `close` on SIGTERM/SIGINT or when the parent goes away, then exits. */
export function onStop (close) {
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    const force = setTimeout(() => process.exit(1), 10_000)
    force.unref()
    try {
      await close()
    } catch (err) {
      process.stderr.write(`close failed: ${err?.stack ?? err}\n`)
    }
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.on('disconnect', stop)
}

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 }

/** A pino-shaped logger writing JSON lines at `level` and above to stderr. */
export function stderrLogger (level = 'warn') {
  const min = LEVELS[level] ?? 40
  const logger = { level }
  for (const [name, n] of Object.entries(LEVELS)) {
    logger[name] = n < min
      ? () => {}
      : (obj, msg) => {
          const fields = typeof obj === 'object' && obj !== null ? obj : { msg: obj }
          process.stderr.write(JSON.stringify({ level: name, time: Date.now(), ...fields, ...(typeof msg === 'string' ? { msg } : {}) }) + '\n')
        }
  }
  logger.child = () => logger
  logger.isLevelEnabled = (l) => (LEVELS[l] ?? 0) >= min
  return logger
}

export function env (name, fallback) {
  const v = process.env[name]
  if (v === undefined || v === '') {
    if (fallback === undefined) throw new Error(`${name} is required`)
    return fallback
  }
  return v
}
