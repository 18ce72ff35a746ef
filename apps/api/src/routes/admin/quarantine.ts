import { getQuarantined, listQuarantine, markResubmitted } from '@fp-webhooks/db'
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { errorReply } from '../../error-reply.js'
import { ADMIN_NOT_FOUND, ADMIN_NO_BODY } from '../../errors.js'
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
    const entry = await getQuarantined(fastify.db.db, req.params.id)
    if (!entry) return reply.code(404).send(errorReply(new ADMIN_NOT_FOUND(`quarantined delivery ${req.params.id}`)))
    const corrected = req.body?.body
    const payload = corrected !== undefined ? JSON.stringify(corrected) : entry.body
    if (payload === null || payload === undefined) {
      return reply.code(409).send(errorReply(new ADMIN_NO_BODY()))
    }
    // Through the real route, so validation, redaction, dedupe and the protocol all apply.
    const res = await fastify.inject({ method: 'POST', url: opts.webhookUrl, headers: { 'content-type': 'application/json' }, payload })
    const accepted = res.statusCode >= 200 && res.statusCode < 300
    if (accepted) await markResubmitted(fastify.db.db, entry.id)
    req.log.info({ quarantineId: entry.id, statusCode: res.statusCode }, 'admin: quarantined delivery resubmitted')
    return reply.code(accepted ? 200 : 422).send({ resubmitted: accepted, status_code: res.statusCode, answer: res.json() })
  })
}
