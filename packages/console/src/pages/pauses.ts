import type { FastifyInstance } from 'fastify'
import { noticeQuery } from '../notices.js'
import { csrfField, type ConsoleContext } from '../context.js'
import type { ConsolePauses } from '../options.js'

/**
 * The pause switch's two buttons, registered only when the server plugs a pause switch in. The
 * banner every page shows is rendered from `pauses.status()` (see the layout).
 */
export async function pauseRoutes (
  fastify: FastifyInstance,
  { ctx, pauses }: { ctx: ConsoleContext, pauses: ConsolePauses }
): Promise<void> {
  fastify.addHook('preHandler', ctx.requireSession)
  const schema = { body: { type: 'object', properties: { ...csrfField, unit: { type: 'string', maxLength: 100 } } } }
  const by = (req: { ip: string, consoleSession: { id: string } | null }) => `console session ${req.consoleSession?.id.slice(0, 6) ?? '?'} from ${req.ip}`

  for (const action of ['pause', 'resume'] as const) {
    fastify.post(`/grants/${action}`, { schema, preHandler: ctx.csrfProtection }, async (req, reply) => {
      const unit = (req.body as { unit?: string }).unit?.trim() || undefined
      await pauses[action]({ unit, by: by(req) })
      return reply.code(303).redirect(`${ctx.base}/${noticeQuery(action === 'pause' ? 'paused' : 'resumed')}`)
    })
  }
}
