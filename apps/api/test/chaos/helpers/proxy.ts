import { startTcpProxy, type TcpProxy } from '@fp-webhooks/testing'

interface Teardown { teardown: (fn: () => unknown) => void }

export interface ChaosProxy {
  /** The port the proxy listens on (127.0.0.1). */
  port: number
  /** `url` with its host and port replaced by the proxy's (scheme, credentials, path kept). */
  via: (url: string) => string
  /** Destroys every live connection and refuses new ones (accepted, then destroyed at once). */
  cut: () => void
  /** Lets new connections through again. */
  restore: () => void
  /** Destroys the live connections only; new ones go through. */
  reset: () => void
  /** What the proxy did, for the scenario's report. */
  stats: TcpProxy['stats']
}

/**
 * The testing package's TCP proxy between the api/worker and a shared Postgres or Redis, so that an
 * outage can be simulated without touching the shared service; closed at teardown. A cut here is
 * its `blackhole()`: the port keeps accepting and drops each connection, as the scenarios expect.
 * Both state changes happen at once, so the scenarios call them without waiting.
 */
export async function startProxy (t: Teardown, target: { host: string, port: number }): Promise<ChaosProxy> {
  const proxy = await startTcpProxy(target)
  t.teardown(() => proxy.close())
  return {
    port: proxy.port,
    via: proxy.via,
    cut: () => { proxy.blackhole().catch(() => {}) },
    restore: () => { proxy.restore().catch(() => {}) },
    reset: proxy.reset,
    stats: proxy.stats
  }
}
