import { createServer, connect, type Socket } from 'node:net'

/**
 * A TCP proxy a test owns, between an app and a shared service (as toxiproxy is used): `cut()`
 * drops every connection and stops listening, so new ones are refused as by a service that is
 * down; `restore()` listens again on the same port and ends a stall; `reset()` drops live
 * connections only; `blackhole()` accepts connections and drops them at once, as a load balancer
 * with no backend; `stall()` keeps every connection open but forwards nothing either way, as a
 * service that hangs (bytes sent meanwhile are held and delivered on `restore()`).
 * The shared service itself is never touched. `stats` counts what the proxy did, for a report.
 * @param options.onClientData sees each chunk a client sends, before it is forwarded, with the
 * number of its connection (to count protocol messages)
 */
export async function startTcpProxy (
  target: { host: string, port: number },
  options: { onClientData?: (chunk: Buffer, connection: number) => void } = {}
) {
  const live = new Set<Socket>()
  let connections = 0
  let open = true
  let stalled = false
  const stats = { accepted: 0, refused: 0, destroyed: 0, cuts: 0, resets: 0 }
  // Bytes read while stalled, per destination, in arrival order.
  const held: Array<{ to: Socket, chunk: Buffer }> = []

  const relay = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (stalled) held.push({ to, chunk })
      else if (!to.destroyed) to.write(chunk)
    })
  }
  const server = createServer((client) => {
    if (!open) {
      stats.refused++
      client.on('error', () => {})
      client.destroy()
      return
    }
    stats.accepted++
    const upstream = connect(target.port, target.host)
    live.add(client)
    live.add(upstream)
    const connection = ++connections
    const observe = options.onClientData
    if (observe) client.on('data', (chunk: Buffer) => observe(chunk, connection))
    const drop = () => { client.destroy(); upstream.destroy(); live.delete(client); live.delete(upstream) }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    relay(client, upstream)
    relay(upstream, client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const dropLive = () => {
    // Client and upstream sockets are both in the set: count connections, not sockets.
    stats.destroyed += Math.floor(live.size / 2)
    for (const s of live) s.destroy()
    live.clear()
    held.length = 0
  }
  const listen = () => new Promise<void>((resolve, reject) => {
    if (server.listening) { resolve(); return }
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const stopListening = () => new Promise<void>((resolve) => {
    if (server.listening) server.close(() => resolve())
    else resolve()
  })
  const unstall = () => {
    stalled = false
    for (const { to, chunk } of held.splice(0)) if (!to.destroyed) to.write(chunk)
  }
  return {
    port,
    /** `url` with its host and port replaced by the proxy's. */
    via (url: string): string {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    stats,
    async cut () { stats.cuts++; dropLive(); await stopListening() },
    async restore () { open = true; unstall(); await listen() },
    async blackhole () { stats.cuts++; open = false; dropLive(); await listen() },
    stall () { stalled = true },
    reset () { stats.resets++; dropLive() },
    async close () {
      open = false
      stalled = false
      dropLive()
      await stopListening()
    }
  }
}

export type TcpProxy = Awaited<ReturnType<typeof startTcpProxy>>
