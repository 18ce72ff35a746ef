import { createServer, connect, type Socket } from 'node:net'

/**
 * A TCP proxy a test owns, between an app and a shared service (as toxiproxy is used): `cut()`
 * drops every connection and stops listening, so new ones are refused as by a service that is
 * down; `restore()` listens again on the same port; `reset()` drops live connections only;
 * `blackhole()` accepts connections and drops them at once, as a load balancer with no backend.
 * The shared service itself is never touched.
 */
export async function startTcpProxy (target: { host: string, port: number }) {
  const live = new Set<Socket>()
  let open = true
  const server = createServer((client) => {
    if (!open) { client.destroy(); return }
    const upstream = connect(target.port, target.host)
    live.add(client)
    live.add(upstream)
    const drop = () => { client.destroy(); upstream.destroy(); live.delete(client); live.delete(upstream) }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const reset = () => { for (const s of live) s.destroy(); live.clear() }
  const listen = () => new Promise<void>((resolve, reject) => {
    if (server.listening) { resolve(); return }
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => { server.off('error', reject); resolve() })
  })
  const stopListening = () => new Promise<void>((resolve) => { if (server.listening) server.close(() => resolve()); else resolve() })
  return {
    port,
    /** `url` with its host and port replaced by the proxy's. */
    via (url: string): string {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    async cut () { reset(); await stopListening() },
    async restore () { open = true; await listen() },
    async blackhole () { open = false; reset(); await listen() },
    reset,
    async close () {
      open = false
      reset()
      await stopListening()
    }
  }
}

export type TcpProxy = Awaited<ReturnType<typeof startTcpProxy>>
