import { getEvent, getFulfilment, listAnswers, listEvents } from '@fp-webhooks/db'
import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import type { FastifyInstance } from 'fastify'
import { replayEvent } from '@fp-webhooks/operations'
import { errorReply } from '../../error-reply.js'
import { ADMIN_NOT_FOUND } from '../../errors.js'
import { IdParams, withErrors } from './schemas.js'

export async function eventRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()

  app.get('/events', {
    schema: {
      summary: 'List stored events, newest first',
      querystring: Type.Object({
        type: Type.Optional(Type.String({ maxLength: 100 })),
        state: Type.Optional(Type.Union([Type.Literal('pending'), Type.Literal('processed'), Type.Literal('failed'), Type.Literal('test')])),
        from: Type.Optional(Type.String({ format: 'date-time' })),
        to: Type.Optional(Type.String({ format: 'date-time' })),
        before_id: Type.Optional(Type.Integer({ minimum: 1 })),
        limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 }))
      })
    }
  }, async (req) => {
    const q = req.query
    const events = await listEvents(fastify.db.db, {
      type: q.type,
      state: q.state,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
      beforeId: q.before_id,
      limit: q.limit
    })
    return { events, next_before_id: events.length > 0 ? events[events.length - 1]!.id : null }
  })

  app.get('/events/:id', {
    schema: { summary: 'One event: its redacted payload and processing history', params: IdParams, response: withErrors }
  }, async (req, reply) => {
    const event = await getEvent(fastify.db.db, req.params.id)
    if (!event) return reply.code(404).send(errorReply(new ADMIN_NOT_FOUND(`event ${req.params.id}`)))
    const fulfilmentId = event.eventType === 'fulfilment_pending' ? Number((event.payload as { data?: { id?: unknown } } | null)?.data?.id) : NaN
    const fulfilment = Number.isSafeInteger(fulfilmentId) ? await getFulfilment(fastify.db.db, fulfilmentId) : undefined
    return {
      event,
      processing: {
        state: event.state,
        attempts: event.attempts,
        last_error: event.lastError,
        processed_at: event.processedAt
      },
      ...(fulfilment ? { fulfilment, answers: await listAnswers(fastify.db.db, fulfilment.id) } : {})
    }
  })

  app.post('/events/:id/replay', {
    schema: { summary: 'Replay an event through the normal path (never grants twice)', params: IdParams, response: withErrors }
  }, async (req, reply) => {
    const result = await replayEvent(fastify.db.db, fastify.queue.jobs, req.params.id)
    if (!result) return reply.code(404).send(errorReply(new ADMIN_NOT_FOUND(`event ${req.params.id}`)))
    req.log.info({ replay: result }, 'admin: event replayed')
    return reply.code(202).send(result)
  })
}
