// A TCP proxy between a test and the shared Postgres (plain JavaScript: a child process of a test
// uses it too). This package's tests cannot use @fp-webhooks/testing's, which depends on this package.
import { connect, createServer } from 'node:net'

/**
 * @param {{ host: string, port: number }} target
 * @param {{ onClientData?: (chunk: Buffer, connection: number) => void }} [options] sees each chunk a
 * client sends, with the number of its connection (to count protocol messages)
 */
export async function startTcpProxy (target, options = {}) {
  const live = new Set()
  let connections = 0
  let stalled = false
  /** Bytes read while stalled, per destination, in arrival order. */
  const held = []
  const forward = (to, chunk) => {
    if (stalled) held.push({ to, chunk })
    else if (!to.destroyed) to.write(chunk)
  }
  const server = createServer((client) => {
    const upstream = connect(target.port, target.host)
    live.add(client)
    live.add(upstream)
    const connection = ++connections
    client.on('data', (chunk) => {
      options.onClientData?.(chunk, connection)
      forward(upstream, chunk)
    })
    upstream.on('data', (chunk) => forward(client, chunk))
    const drop = () => { client.destroy(); upstream.destroy(); live.delete(client); live.delete(upstream) }
    client.on('error', drop).on('close', drop)
    upstream.on('error', drop).on('close', drop)
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  /** Drops every live connection; new ones are still accepted. */
  const reset = () => { for (const s of live) s.destroy(); live.clear() }
  return {
    port,
    /** `url` with its host and port replaced by the proxy's. */
    via (url) {
      const u = new URL(url)
      u.hostname = '127.0.0.1'
      u.port = String(port)
      return u.toString()
    },
    reset,
    /** Keeps every connection open but forwards nothing either way, as a service that hangs. */
    stall () { stalled = true },
    /** Ends a stall: what was held is delivered, to the connections still alive. */
    async restore () {
      stalled = false
      for (const { to, chunk } of held.splice(0)) if (!to.destroyed) to.write(chunk)
    },
    close: () => {
      stalled = false
      held.length = 0
      reset()
      return new Promise((resolve) => server.close(() => resolve()))
    }
  }
}
