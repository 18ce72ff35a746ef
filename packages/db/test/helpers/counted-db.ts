import { createDb } from '../../src/client.js'
import { createTestDatabase } from './database.js'
import { createProtocolCounter } from './protocol-counter.js'
import { startTcpProxy } from './tcp-proxy.mjs'

/**
 * A test database of its own, reached through a TCP proxy that counts the protocol messages sent
 * (`counter.cost(run)`: round trips and parses), plus a direct pool for assertions.
 */
export async function countedDb (t: { teardown: (fn: () => unknown) => void }, max = 4) {
  const { url } = await createTestDatabase(t)
  const counter = createProtocolCounter()
  const pg = new URL(url)
  const target = { host: pg.hostname, port: Number(pg.port || 5432) }
  const proxy = await startTcpProxy(target, { onClientData: counter.feed })
  const handle = createDb(proxy.via(url), { max })
  const direct = createDb(url, { max: 2 })
  t.teardown(async () => { await handle.close(); await direct.close(); await proxy.close() })
  await handle.db.transaction(async () => {}) // connect (postgres.js reads the array types once)
  return { ...handle, counter, direct: direct.sql }
}
