import { connect, createServer, type Socket } from 'node:net'

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
  readonly isCut: boolean
  /** What the proxy did, for the scenario's report. */
  stats: { accepted: number, refused: number, destroyed: number, cuts: number, resets: number }
  close: () => Promise<void>
}

/**
 * A TCP proxy the test owns, put between the api/worker and a shared Postgres or Redis, so that an
 * outage can be simulated without touching the shared service. Closed at teardown.
 */
export async function startProxy (t: Teardown, target: { host: string, port: number }): Promise<ChaosProxy> {
  const live = new Set<Socket>()
  let cut = false
  const stats = { accepted: 0, refused: 0, destroyed: 0, cuts: 0, resets: 0 }

  const server = createServer((client) => {
    if (cut) {
      stats.refused++
      client.on('error', () => {})
      client.destroy()
      return
    }
    stats.accepted++
    const upstream = connect(target.port, target.host)
    live.add(client)
    live.add(upstream)
    let dropped = false
    const drop = () => {
      if (dropped) return
      dropped = true
      client.destroy()
      upstream.destroy()
      live.delete(client)
      live.delete(upstream)
    }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream)
    upstream.pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }

  const destroyLive = () => {
    // Client and upstream sockets are both in the set: count connections, not sockets.
    stats.destroyed += Math.floor(live.size / 2)
    for (const s of live) s.destroy()
    live.clear()
  }

  const proxy: ChaosProxy = {
    port,
    via (url: string): string {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    cut () {
      cut = true
      stats.cuts++
      destroyLive()
    },
    restore () { cut = false },
    reset () {
      stats.resets++
      destroyLive()
    },
    get isCut () { return cut },
    stats,
    async close () {
      cut = true
      destroyLive()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
  t.teardown(() => proxy.close())
  return proxy
}
