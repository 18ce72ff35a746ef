import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify'
import type { LoginLimiter, NormalizedConsoleOptions } from './options.js'
import type { Render } from './render.js'

/** What every page module of the console gets. */
export interface ConsoleContext {
  opts: NormalizedConsoleOptions
  /** The prefix the console is mounted at, without a trailing slash (`/admin/console`). */
  base: string
  cookiePath: string
  render: Render
  loginLimiter: LoginLimiter
  /** preHandler: a GET without a session goes to the login page; anything else is answered 401. */
  requireSession: (req: FastifyRequest, reply: FastifyReply) => Promise<unknown>
  /** preHandler: the form's CSRF token must match its cookie and this session. */
  csrfProtection:
    | preHandlerAsyncHookHandler
    | ((req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => void)
}

/** The id in a route's params, already validated as a positive integer. */
export const IdParams = {
  type: 'object',
  properties: { id: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER } },
  required: ['id']
} as const

/**
 * A fulfilment's id: a v1 payout id, or minus the commission id for a v2 commission (its own
 * namespace; see the db package's `v2FulfilmentId`).
 */
export const FulfilmentIdParams = {
  type: 'object',
  properties: { id: { type: 'integer', minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER } },
  required: ['id']
} as const

/** Every state-changing form posts its CSRF token as `_csrf`. */
export const csrfField = { _csrf: { type: 'string', maxLength: 200 } } as const

/** Runs a queue read with a time limit: a page must render while Redis is away. */
export async function withinMs<T> (ms: number, work: () => Promise<T>): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([
      work().catch(() => null),
      new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), ms) })
    ])
  } finally {
    clearTimeout(timer)
  }
}
