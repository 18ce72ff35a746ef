import { getFulfilment, listAnswers, listFulfilments } from '@fp-webhooks/db'
import { RECONCILE_JOB_ID } from '@fp-webhooks/queue'
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { retryFulfilment } from '@fp-webhooks/operations'
import { errorReply } from '../../error-reply.js'
import { ADMIN_NOT_FOUND, ADMIN_NOT_RETRYABLE, ADMIN_RECONCILE_NOT_CONFIGURED } from '../../errors.js'
import { FulfilmentIdParams, withErrors } from './schemas.js'

export interface FulfilmentRoutesOptions {
  /** FP_API_KEY is set: reconciliation can list FirstPromoter's pending payouts. */
  reconcileConfigured: boolean
}

export async function fulfilmentRoutes (fastify: FastifyInstance, opts: FulfilmentRoutesOptions): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/fulfilments', {
    schema: {
      summary: 'List fulfilments, most recently changed first',
      querystring: Type.Object({
        state: Type.Optional(Type.Union(['pending', 'granting', 'granted', 'failed'].map((s) => Type.Literal(s)))),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 }))
      })
    }
  }, async (req) => ({
    fulfilments: await listFulfilments(fastify.db.db, { state: req.query.state as never, limit: req.query.limit })
  }))

  app.get('/fulfilments/:id', {
    schema: { summary: 'A fulfilment: its state and every answer FirstPromoter got', params: FulfilmentIdParams, response: withErrors }
  }, async (req, reply) => {
    const fulfilment = await getFulfilment(fastify.db.db, req.params.id)
    if (!fulfilment) return reply.code(404).send(errorReply(new ADMIN_NOT_FOUND(`fulfilment ${req.params.id}`)))
    return { fulfilment, answers: await listAnswers(fastify.db.db, fulfilment.id) }
  })

  app.post('/fulfilments/:id/retry', {
    schema: { summary: 'Retry a failed fulfilment, or run a retrying grant now (after fixing its cause)', params: FulfilmentIdParams, response: withErrors }
  }, async (req, reply) => {
    const result = await retryFulfilment(fastify.db.db, fastify.queue.jobs, req.params.id)
    if (!result) return reply.code(404).send(errorReply(new ADMIN_NOT_FOUND(`fulfilment ${req.params.id}`)))
    if (!result.retried) return reply.code(409).send(errorReply(new ADMIN_NOT_RETRYABLE(req.params.id, result.state)))
    req.log.info({ fulfilmentId: req.params.id }, 'admin: fulfilment retried')
    return reply.code(202).send(result)
  })

  app.post('/reconcile', {
    schema: { summary: 'Run reconciliation against FirstPromoter now (the worker runs it; needs FP_API_KEY, or FP_API_V2_KEY and FP_ACCOUNT_ID)', response: withErrors }
  }, async (req, reply) => {
    if (!opts.reconcileConfigured) {
      const refused = new ADMIN_RECONCILE_NOT_CONFIGURED()
      req.log.warn({ reason: refused.message }, 'admin: reconcile refused')
      return reply.code(refused.statusCode).send(errorReply(refused))
    }
    const queued = await fastify.queue.jobs.reconcile()
    return reply.code(202).send({ queued: true, already_queued: queued === 'already-queued', job_id: RECONCILE_JOB_ID })
  })
}
