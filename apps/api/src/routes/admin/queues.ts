import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import type { GrantJobData } from '@fp-webhooks/queue'
import type { FastifyInstance } from 'fastify'
import { FETCH_WITHOUT_CREDENTIALS } from './fetch-shim.js'

const FETCH_SHIM = 'fetch-without-credentials.js'

/** How a grant job is listed: what it grants, not only its fulfilment id. */
export function grantJobName (data: Partial<GrantJobData>): string {
  const reward = data.unit !== undefined && data.amount !== undefined ? `: ${data.amount} ${data.unit}` : ''
  return `grant ${data.fulfilmentId ?? '?'}${reward}`
}

/**
 * Bull Board: the grant, event and maintenance queues, to look at and retry failed jobs. Its page
 * gets one script of ours first (see `fetch-shim.ts`): opened with Basic auth
 * in the URL, the board's locale would otherwise never load.
 */
export async function queueDashboard (fastify: FastifyInstance): Promise<void> {
  const serverAdapter = new FastifyAdapter()
  const { grants, ...others } = fastify.queue.queues
  const grantsBoard = new BullMQAdapter(grants)
  grantsBoard.setFormatter('name', (job) => grantJobName(job.data as Partial<GrantJobData>))
  createBullBoard({
    queues: [grantsBoard, ...Object.values(others).map((q) => new BullMQAdapter(q))],
    serverAdapter
  })
  serverAdapter.setBasePath(fastify.prefix)

  fastify.get(`/${FETCH_SHIM}`, { schema: { hide: true } }, async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(FETCH_WITHOUT_CREDENTIALS))
  fastify.addHook('onSend', async (_req, reply, payload) => {
    if (typeof payload !== 'string' || !String(reply.getHeader('content-type')).startsWith('text/html')) return payload
    // Before the board's own (deferred) scripts, so it is in place when they run.
    return payload.replace(/<head>/i, `<head><script src="${fastify.prefix}/${FETCH_SHIM}"></script>`)
  })
  await fastify.register(serverAdapter.registerPlugin())
}
