import { getEventRow, listEventTypes, searchEvents, type EventCursor } from '@fp-webhooks/db'
import type { FastifyInstance } from 'fastify'
import { IdParams, type ConsoleContext } from '../context.js'

interface EventQuery { type?: string, state?: string, id?: string, from?: string, to?: string, after?: string }

/** A `datetime-local` value (no zone) read as UTC; undefined when empty or not a time. */
function utc (value: string | undefined): Date | undefined {
  if (!value) return undefined
  const d = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`)
  return Number.isNaN(d.getTime()) ? undefined : d
}

/** A timestamptz as Postgres writes it: `2024-05-01 12:00:05.123456+00`. */
const POSTGRES_TIME = /^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d{1,6})?([+-]\d\d(:?\d\d){0,2}|Z)?$/

/** The next page's cursor as one opaque query value. */
const encodeCursor = (c: EventCursor) => Buffer.from(`${c.receivedAt}|${c.id}`).toString('base64url')
function decodeCursor (value: string | undefined): EventCursor | undefined {
  if (!value) return undefined
  const [receivedAt, id] = Buffer.from(value, 'base64url').toString('utf8').split('|')
  if (!receivedAt || !id || !/^\d{1,15}$/.test(id) || !POSTGRES_TIME.test(receivedAt)) return undefined
  return { receivedAt, id: Number(id) }
}

/** The events search, newest first, a page at a time; and one event with its payload. */
export async function eventPages (fastify: FastifyInstance, { ctx }: { ctx: ConsoleContext }): Promise<void> {
  const { db } = ctx.opts
  fastify.addHook('preHandler', ctx.requireSession)

  fastify.get('/events', {
    schema: {
      querystring: {
        type: 'object',
        properties: {
          type: { type: 'string', maxLength: 100 },
          state: { enum: ['', 'pending', 'processed', 'failed'] },
          id: { type: 'string', maxLength: 200 },
          from: { type: 'string', maxLength: 40 },
          to: { type: 'string', maxLength: 40 },
          after: { type: 'string', maxLength: 200 }
        }
      }
    }
  }, async (req, reply) => {
    const q = req.query as EventQuery
    const search = {
      type: q.type || undefined,
      state: (q.state || undefined) as 'pending' | 'processed' | 'failed' | undefined,
      id: q.id || undefined,
      from: utc(q.from),
      to: utc(q.to),
      after: decodeCursor(q.after)
    }
    const [result, types] = await Promise.all([searchEvents(db, { ...search, limit: 50 }), listEventTypes(db)])
    const params = new URLSearchParams(
      Object.entries({ type: q.type, state: q.state, id: q.id, from: q.from, to: q.to })
        .filter((e): e is [string, string] => Boolean(e[1]))
    )
    const nextUrl = result.next ? `${ctx.base}/events?${new URLSearchParams([...params, ['after', encodeCursor(result.next)]]).toString()}` : null
    return ctx.render(reply, 'events', { page: 'events', q, types, events: result.events, nextUrl, firstUrl: search.after ? `${ctx.base}/events?${params.toString()}` : null })
  })

  fastify.get('/events/:id', { schema: { params: IdParams } }, async (req, reply) => {
    const { id } = req.params as { id: number }
    const event = await getEventRow(db, id)
    if (!event) return ctx.render(reply, 'error', { page: 'events', status: 404, message: `Event #${id} is not in the inbox.` }, 404)
    const data = (event.payload as { data?: { id?: unknown } } | null)?.data
    const fulfilmentId = event.eventType === 'fulfilment_pending' && Number.isSafeInteger(Number(data?.id)) ? Number(data?.id) : null
    return ctx.render(reply, 'event', { page: 'events', event, fulfilmentId })
  })
}
