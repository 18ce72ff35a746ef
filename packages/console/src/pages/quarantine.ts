import { listQuarantinePage } from '@fp-webhooks/db'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { noticeFrom, noticeQuery, type Notice } from '../notices.js'
import { IdParams, csrfField, type ConsoleContext } from '../context.js'

interface ResubmitBody { _csrf?: string, mode?: 'as-is' | 'corrected', body?: string }

/** The message of the webhook route's refusal (its error body), for the page. */
function refusal (answer: unknown): string {
  const a = answer as { message?: unknown, errors?: Array<{ path?: unknown, message?: unknown }> } | null
  const fields = Array.isArray(a?.errors) ? a.errors.map((e) => `${String(e.path ?? '')} ${String(e.message ?? '')}`.trim()).join('; ') : ''
  return [typeof a?.message === 'string' ? a.message : 'refused', fields].filter(Boolean).join(': ')
}

/** Rejected deliveries, with Resubmit as they were or with a corrected body. */
export async function quarantinePages (fastify: FastifyInstance, { ctx }: { ctx: ConsoleContext }): Promise<void> {
  const { db, actions } = ctx.opts
  fastify.addHook('preHandler', ctx.requireSession)

  const page = async (
    req: FastifyRequest,
    reply: FastifyReply,
    notice: Notice | null,
    status = 200,
    draft?: { id: number, body: string }
  ) => {
    const all = (req.query as { all?: string }).all === '1'
    const entries = await listQuarantinePage(db, { includeResubmitted: all, limit: 50 })
    return ctx.render(reply, 'quarantine', { page: 'quarantine', notice, entries, all, draft }, status)
  }

  fastify.get('/quarantine', {
    schema: { querystring: { type: 'object', properties: { all: { type: 'string', maxLength: 1 } } } }
  }, async (req, reply) => page(req, reply, noticeFrom(req.query as Record<string, unknown>)))

  fastify.post('/quarantine/:id/resubmit', {
    schema: {
      params: IdParams,
      body: { type: 'object', properties: { ...csrfField, mode: { enum: ['as-is', 'corrected'] }, body: { type: 'string', maxLength: 1_000_000 } } }
    },
    preHandler: ctx.csrfProtection
  }, async (req, reply) => {
    const { id } = req.params as { id: number }
    const form = req.body as ResubmitBody
    let corrected: unknown
    if (form.mode === 'corrected') {
      try {
        corrected = JSON.parse(form.body ?? '')
      } catch (err) {
        return page(req, reply, { tone: 'bad', text: `Delivery ${id}: the corrected body is not JSON (${(err as Error).message}); nothing was sent.` }, 400, { id, body: form.body ?? '' })
      }
    }
    const outcome = await actions.resubmit(id, corrected)
    if (!outcome) return reply.code(303).redirect(`${ctx.base}/quarantine${noticeQuery('not-found', { id: `quarantined delivery ${id}` })}`)
    if ('noBody' in outcome) return reply.code(303).redirect(`${ctx.base}/quarantine${noticeQuery('no-body', { id })}`)
    req.log.info({ quarantineId: id, corrected: corrected !== undefined, statusCode: outcome.statusCode }, 'console: quarantined delivery resubmitted')
    if (outcome.resubmitted) return reply.code(303).redirect(`${ctx.base}/quarantine${noticeQuery('resubmitted', { id, status: outcome.statusCode })}`)
    return page(req, reply, { tone: 'bad', text: `Delivery ${id} was refused again (answered ${outcome.statusCode}): ${refusal(outcome.answer)}` }, 422, corrected === undefined ? undefined : { id, body: form.body ?? '' })
  })
}
