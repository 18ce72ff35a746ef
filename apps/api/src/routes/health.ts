import type { FastifyInstance } from 'fastify'

/** `/healthz`: the process is alive. `/readyz`: Postgres and Redis answer, migrations applied. */
export async function healthRoutes (fastify: FastifyInstance): Promise<void> {
  fastify.get('/healthz', { logLevel: 'warn' }, async () => ({ status: 'ok' }))

  fastify.get('/readyz', { logLevel: 'warn' }, async (_req, reply) => {
    const checks = await Promise.all([
      withTimeout(fastify.db.sql`select 1 from webhook_events limit 1`.then(() => 'ok'), 2000),
      withTimeout(fastify.queue.connection.ping().then(() => 'ok'), 2000)
    ])
    const [postgres, redis] = checks
    const ready = postgres === 'ok' && redis === 'ok'
    return reply.code(ready ? 200 : 503).send({ status: ready ? 'ready' : 'unavailable', postgres, redis })
  })
}

async function withTimeout (check: Promise<string>, ms: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<string>((resolve) => { timer = setTimeout(() => resolve('timeout'), ms) })
  try {
    return await Promise.race([check.catch((err: Error) => `error: ${err.message}`), timeout])
  } finally {
    clearTimeout(timer)
  }
}
