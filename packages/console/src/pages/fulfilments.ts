import { getFulfilment, getLedgerEntryOf, listAnswers, listFulfilmentDeliveries } from '@fp-webhooks/db'
import { closeJobId, grantJobId } from '@fp-webhooks/queue'
import type { FastifyInstance } from 'fastify'
import { noticeFrom, noticeQuery } from '../notices.js'
import { buildTimeline } from '../timeline.js'
import { FulfilmentIdParams, csrfField, withinMs, type ConsoleContext } from '../context.js'

interface JobView { state: string, attemptsMade: number, failedReason: string | null }

/** A job's state and attempts, from BullMQ; null without queues, when gone, or Redis away. */
async function jobView (
  queue: { getJob: (id: string) => Promise<unknown> } | undefined,
  id: string
): Promise<JobView | null> {
  if (!queue) return null
  return withinMs(1500, async () => {
    const job = await queue.getJob(id) as
      | { attemptsMade: number, failedReason?: string, getState: () => Promise<string> }
      | undefined
    if (!job) return null
    return { state: await job.getState(), attemptsMade: job.attemptsMade, failedReason: job.failedReason ?? null }
  })
}

const back = (ctx: ConsoleContext, from: unknown, id: number) => (from === 'timeline' ? `${ctx.base}/fulfilments/${id}` : `${ctx.base}/`)

/** A fulfilment's timeline, and the Retry buttons of "needs a human". */
export async function fulfilmentPages (fastify: FastifyInstance, { ctx }: { ctx: ConsoleContext }): Promise<void> {
  const { db, queues, actions } = ctx.opts
  fastify.addHook('preHandler', ctx.requireSession)

  // The lookup form: `?id=` goes to that fulfilment's page.
  fastify.get('/fulfilments', {
    schema: { querystring: { type: 'object', properties: { id: { type: 'string', maxLength: 20 } } } }
  }, async (req, reply) => {
    const id = (req.query as { id?: string }).id?.trim()
    if (id && /^\d{1,15}$/.test(id)) return reply.code(303).redirect(`${ctx.base}/fulfilments/${id}`)
    return ctx.render(reply, 'fulfilment-lookup', { page: 'fulfilments', notice: id ? { tone: 'bad', text: 'A fulfilment id is a number (FirstPromoter\'s `data.id`).' } : null })
  })

  fastify.get('/fulfilments/:id', { schema: { params: FulfilmentIdParams } }, async (req, reply) => {
    const { id } = req.params as { id: number }
    const fulfilment = await getFulfilment(db, id)
    if (!fulfilment) return ctx.render(reply, 'fulfilment-lookup', { page: 'fulfilments', notice: { tone: 'bad', text: `Fulfilment ${id} is not recorded.` } }, 404)
    const answers = await listAnswers(db, id)
    const eventIds = [fulfilment.firstEventId, ...answers.map((a) => a.eventId)].filter((e): e is string => typeof e === 'string')
    const [deliveries, ledger, grantJob, closeJob] = await Promise.all([
      listFulfilmentDeliveries(db, id, eventIds),
      getLedgerEntryOf(db, id),
      jobView(queues?.grants, grantJobId(id)),
      jobView(queues?.maintenance, closeJobId(id))
    ])
    return ctx.render(reply, 'fulfilment', {
      page: 'fulfilments',
      notice: noticeFrom(req.query as Record<string, unknown>),
      fulfilment,
      answers,
      deliveries,
      ledger,
      grantJob,
      closeJob,
      timeline: buildTimeline({ fulfilment, answers, deliveries, ledger: ledger ?? null })
    })
  })

  const actionSchema = { params: FulfilmentIdParams, body: { type: 'object', properties: { ...csrfField, from: { type: 'string', maxLength: 20 } } } }

  fastify.post('/fulfilments/:id/retry', { schema: actionSchema, preHandler: ctx.csrfProtection }, async (req, reply) => {
    const { id } = req.params as { id: number }
    const outcome = await actions.retryFulfilment(id)
    const to = back(ctx, (req.body as { from?: string }).from, id)
    if (!outcome) return reply.code(303).redirect(`${to}${noticeQuery('not-found', { id: `fulfilment ${id}` })}`)
    req.log.info({ fulfilmentId: id, retried: outcome.retried }, 'console: fulfilment retry')
    return reply.code(303).redirect(`${to}${noticeQuery(outcome.retried ? 'retried' : 'not-retryable', { id })}`)
  })

  fastify.post('/fulfilments/:id/retry-close', { schema: actionSchema, preHandler: ctx.csrfProtection }, async (req, reply) => {
    const { id } = req.params as { id: number }
    const outcome = await actions.retryClose(id)
    const to = back(ctx, (req.body as { from?: string }).from, id)
    if (!outcome) return reply.code(303).redirect(`${to}${noticeQuery('not-found', { id: `fulfilment ${id}` })}`)
    req.log.info({ fulfilmentId: id, retried: outcome.retried }, 'console: API close retry')
    return reply.code(303).redirect(`${to}${noticeQuery(outcome.retried ? 'close-retried' : 'close-not-failed', { id })}`)
  })
}
