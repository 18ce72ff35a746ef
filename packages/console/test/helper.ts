import { createDb, createPostgresStore } from '@fp-webhooks/db'
import { createTestDatabase } from '@fp-webhooks/testing'
import Fastify, { type InjectOptions } from 'fastify'
import { fastifyConsole, type ConsoleActions, type ConsoleOptions } from '../src/index.js'

export const TOKEN = 'console-token-0123456789abcdef'

interface T { teardown: (fn: () => unknown) => void }

/** Every call the console made to its actions, for assertions. */
export type ActionCall = [keyof ConsoleActions, number, unknown?]

/**
 * The console alone, mounted at `/admin/console` in a bare Fastify on its own database, its
 * actions recorded (and answered by `actions` when given).
 */
export async function buildConsole (t: T, options: Partial<ConsoleOptions> = {}) {
  const { url } = await createTestDatabase(t)
  const handle = createDb(url, { max: 4 })
  const calls: ActionCall[] = []
  const actions: ConsoleActions = {
    retryFulfilment: async (id) => { calls.push(['retryFulfilment', id]); return { retried: true } },
    retryClose: async (id) => { calls.push(['retryClose', id]); return { retried: true } },
    resubmit: async (id, body) => { calls.push(['resubmit', id, body]); return { resubmitted: true, statusCode: 200, answer: { received: true } } },
    ...options.actions
  }
  const app = Fastify()
  await app.register(fastifyConsole, { prefix: '/admin/console', db: handle.db, token: TOKEN, ...options, actions })
  await app.ready()
  t.teardown(async () => {
    await app.close()
    await handle.close()
  })
  const sql = handle.sql as unknown as (strings: TemplateStringsArray, ...values: unknown[]) => Promise<any[]>
  return { app, db: handle.db, sql, store: createPostgresStore(handle.db), calls, browser: createBrowser(app) }
}

interface Injector { inject: (opts: InjectOptions) => Promise<any> }

/**
 * A cookie jar over `inject`: keeps the cookies each answer sets, sends them back, and reads the
 * CSRF token of the last page (its first `_csrf` field).
 */
export function createBrowser (app: Injector) {
  const jar = new Map<string, string>()
  let lastCsrf = ''
  const cookieHeader = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
  const request = async (opts: InjectOptions) => {
    const res = await app.inject({
      ...opts,
      headers: { ...(jar.size ? { cookie: cookieHeader() } : {}), ...opts.headers }
    })
    const setCookies = ([] as string[]).concat(res.headers['set-cookie'] ?? [])
    for (const c of setCookies) {
      const [pair] = c.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq)
      const value = pair!.slice(eq + 1)
      if (value === '' || /Expires=Thu, 01 Jan 1970/i.test(c)) jar.delete(name)
      else jar.set(name, value)
    }
    const csrf = /name="_csrf" value="([^"]+)"/.exec(res.body)
    if (csrf) lastCsrf = csrf[1]!
    return res
  }
  return {
    jar,
    get: (url: string) => request({ method: 'GET', url }),
    /** A form post; the last page's CSRF token is added unless `_csrf` is given (null: none). */
    post: (url: string, form: Record<string, string | null> = {}) => {
      const fields = { _csrf: lastCsrf, ...form }
      const body = new URLSearchParams(
        Object.entries(fields).filter((e): e is [string, string] => e[1] !== null)
      ).toString()
      return request({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: body })
    },
    async login (token = TOKEN) {
      await request({ method: 'GET', url: '/admin/console' })
      return this.post('/admin/console/login', { token })
    },
    get csrf () { return lastCsrf }
  }
}

let nextId = 700_000_000 + Math.floor(Math.random() * 1_000_000) * 10
export const uniqueId = () => ++nextId

/** A fulfilment delivery as the store records it. */
export function fulfilmentDelivery (id: number, eventId = `ev-${uniqueId()}`, unit = 'credits', amount = 5) {
  return {
    source: 'v1' as const,
    eventId,
    eventType: 'fulfilment_pending',
    eventCreatedAt: null,
    dedupeKey: null,
    payload: { event: { id: eventId, type: 'fulfilment_pending' }, data: { id, unit, amount } },
    fulfilment: { id, unit, amount, beneficiary: `promoter:${id + 1}`, promoterId: id + 1, custId: null, promoterEmail: null }
  }
}
