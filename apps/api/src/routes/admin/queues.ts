import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import type { FastifyInstance } from 'fastify'

/** Bull Board: the grant, event and maintenance queues, to look at and retry failed jobs. */
export async function queueDashboard (fastify: FastifyInstance): Promise<void> {
  const serverAdapter = new FastifyAdapter()
  createBullBoard({
    queues: Object.values(fastify.queue.queues).map((q) => new BullMQAdapter(q)),
    serverAdapter
  })
  serverAdapter.setBasePath(fastify.prefix)
  await fastify.register(serverAdapter.registerPlugin())
}
