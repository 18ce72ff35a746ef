import closeWithGrace from 'close-with-grace'

/**
 * A repeat of the first shutdown signal within this many ms is the same interrupt delivered twice:
 * under `pnpm <script>`, Ctrl-C reaches both pnpm and its child, and pnpm forwards its own copy.
 */
export const DUPLICATE_SIGNAL_MS = 1000

const SHUTDOWN_SIGNALS = ['SIGINT', 'SIGTERM'] as const

interface Log {
  info: (obj: object, msg: string) => void
  warn: (obj: object, msg: string) => void
  error: (obj: object, msg: string) => void
}

export interface GracefulShutdownOptions {
  /** The process's name in log lines: "api shutting down". */
  name: string
  /** Longest the drain may take; after it the process exits 1 anyway. */
  timeoutMs: number
  log: Log
  /** Stops taking work, lets running work finish, closes connections. Called at most once. */
  close: () => Promise<void>
}

export interface GracefulShutdown {
  /** Tells a supervisor that started this process over IPC (`pnpm start`) that it is serving. */
  ready: () => void
}

/**
 * Drains the process once, with close-with-grace, then exits 0: on SIGINT or SIGTERM, on an
 * uncaught error (then exits 1), and when the supervisor that started it over an IPC channel
 * (scripts/start.mjs) has gone, since nothing would pass a signal on any more. The same signal
 * again within DUPLICATE_SIGNAL_MS is ignored; a later one exits at once, without draining.
 */
export function closeGracefully (options: GracefulShutdownOptions): GracefulShutdown {
  const { name, log } = options
  let firstSignalAt: number | undefined
  const closer = closeWithGrace({
    delay: options.timeoutMs,
    // Handled below, to tell a duplicate from a second signal.
    skip: [...SHUTDOWN_SIGNALS],
    logger: { error: (err: unknown) => log.error({ err }, `${name} shutdown failed`) },
    onTimeout: (delay) => log.error({ timeoutMs: delay }, `${name} shutdown timed out; exiting`),
    onSecondSignal: (signal) => log.error({ signal }, `second signal (${signal}); ${name} exiting without draining`),
    onSecondError: (err) => log.error({ err }, `${name}: another error while shutting down; exiting`)
  }, async ({ err }) => {
    if (err) log.error({ err }, `${name} closing after an uncaught error`)
    await options.close()
  })

  const begin = (signal: string) => {
    firstSignalAt = Date.now()
    log.info({ signal }, `${name} shutting down`)
    closer.close()
  }
  const onSignal = (signal: string) => {
    if (firstSignalAt === undefined) begin(signal)
    else if (Date.now() - firstSignalAt >= DUPLICATE_SIGNAL_MS) {
      log.error({ signal }, `second signal (${signal}); ${name} exiting without draining`)
      process.exit(1)
    }
  }
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal)

  if (process.connected) {
    // The channel must not keep the process alive, only report the supervisor's death.
    process.channel?.unref()
    process.once('disconnect', () => {
      if (firstSignalAt !== undefined) return
      log.warn({}, `${name}: the process that started it has gone`)
      begin('disconnect')
    })
  }
  return {
    ready: () => { if (process.connected) process.send?.({ ready: name }) }
  }
}
