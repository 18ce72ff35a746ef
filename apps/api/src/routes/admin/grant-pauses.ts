import { Type, type TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { TypeCompiler } from '@sinclair/typebox/compiler'
import type { FastifyInstance, FastifySchemaCompiler } from 'fastify'
import { errorReply, ErrorReplySchema } from '../../error-reply.js'
import { ADMIN_PAUSED_FOR_ALL } from '../../errors.js'

/**
 * A unit as FirstPromoter names it (`free_months`, `credits`…): 1–100 characters without spaces.
 * `all` and `*` are refused: they name the pause of every unit (the metric's `unit="all"`).
 */
export const PauseUnitSchema = Type.String({ minLength: 1, maxLength: 100, pattern: '^(?!(?:all|\\*)$)\\S+$' })

/** No body (or `{}`): every unit; with `unit`, that unit only. */
export const PauseBodySchema = Type.Object({ unit: Type.Optional(PauseUnitSchema) }, { additionalProperties: false })

const PauseViewSchema = Type.Object({
  all: Type.Boolean(),
  units: Type.Array(Type.String()),
  pauses: Type.Array(Type.Object({
    scope: Type.Union([Type.Literal('all'), Type.Literal('unit')]),
    unit: Type.Union([Type.String(), Type.Null()]),
    paused_at: Type.String({ format: 'date-time' }),
    paused_by: Type.String()
  }))
})

const UNIT_RULE = 'must be a unit name: 1–100 characters without spaces, not "all" or "*"'

/**
 * TypeBox's own check, not Fastify's Ajv, which coerces types (`{"unit": 5}` would pause unit "5");
 * a bad unit is told the rule in words, not as a regular expression.
 */
const strictBody: FastifySchemaCompiler<unknown> = ({ schema }) => {
  const check = TypeCompiler.Compile(schema as typeof PauseBodySchema)
  return (value) => {
    if (check.Check(value)) return { value }
    const first = check.Errors(value).First()!
    const message = first.path === '/unit' && typeof first.value === 'string' ? UNIT_RULE : first.message
    return { error: [{ instancePath: first.path, message }] as never }
  }
}

/** The admin token carries no name; the log and the table say `admin` for it. */
export const ADMIN_IDENTITY = 'admin'

export async function grantPauseRoutes (fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>()
  const pauses = fastify.grantPauses
  app.setValidatorCompiler(strictBody)
  // A POST with no body means "every unit".
  app.addHook('preValidation', async (req) => { if (req.body === undefined) req.body = {} })

  app.get('/grants/pause', {
    schema: { summary: 'What is paused: every unit and/or single units, since when and by whom', response: { 200: PauseViewSchema } }
  }, async () => pauses.status())

  app.post('/grants/pause', {
    schema: {
      summary: 'Pause grants: every unit, or one with {"unit": "credits"}. Fulfilments are still recorded and answered 202; their grants run on resume',
      body: PauseBodySchema,
      response: { 200: PauseViewSchema, 400: ErrorReplySchema }
    }
  }, async (req) => pauses.pause({ unit: req.body.unit, by: ADMIN_IDENTITY }))

  app.post('/grants/resume', {
    schema: {
      summary: 'Resume grants: every pause, or one unit\'s with {"unit": "credits"}. The grants held back run at once',
      body: PauseBodySchema,
      response: {
        200: Type.Intersect([
          PauseViewSchema,
          Type.Object({ lifted: Type.Array(Type.String()), queued: Type.Integer() })
        ]),
        400: ErrorReplySchema,
        409: ErrorReplySchema
      }
    }
  }, async (req, reply) => {
    const unit = req.body.unit
    const outcome = await pauses.resume({ unit, by: ADMIN_IDENTITY })
    if (!outcome.resumed) return reply.code(409).send(errorReply(new ADMIN_PAUSED_FOR_ALL(unit ?? '')))
    return { ...await pauses.status(), lifted: outcome.lifted, queued: outcome.queued }
  })
}
