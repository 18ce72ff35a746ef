import { listQuarantine } from '@fp-webhooks/db'
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorReply } from '../../error-reply.js'
import { ADMIN_NOT_FOUND, ADMIN_NO_BODY } from '../../errors.js'
import { resubmitQuarantined } from '@fp-webhooks/operations'
import { IdParams, withErrors } from './schemas.js'

export async function quarantineRoutes (fastify: FastifyInstance, opts: { webhookUrl: string }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/quarantine', {
    schema: { summary: 'Rejected deliveries, newest first', querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 100 })) }) }
  }, async (req) => ({ deliveries: await listQuarantine(fastify.db.db, req.query.limit) }))

  app.post('/quarantine/:id/resubmit', {
    schema: {
      summary: 'Send a quarantined body (or a corrected one) through the webhook route again',
      params: IdParams,
      body: Type.Optional(Type.Object({ body: Type.Optional(Type.Unknown()) })),
      response: withErrors
    }
  }, async (req, reply) => {
    const result = await resubmitQuarantined(fastify, fastify.db.db, opts.webhookUrl, req.params.id, req.body?.body)
    if (!result) return reply.code(404).send(errorReply(new ADMIN_NOT_FOUND(`quarantined delivery ${req.params.id}`)))
    if ('noBody' in result) return reply.code(409).send(errorReply(new ADMIN_NO_BODY()))
    req.log.info({ quarantineId: req.params.id, statusCode: result.statusCode }, 'admin: quarantined delivery resubmitted')
    return reply.code(result.resubmitted ? 200 : 422).send({
      resubmitted: result.resubmitted,
      status_code: result.statusCode,
      answer: result.answer
    })
  })
}
