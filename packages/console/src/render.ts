import { fileURLToPath } from 'node:url'
import { Eta } from 'eta'
import type { FastifyReply } from 'fastify'

export const VIEWS_DIR = fileURLToPath(new URL('../views/', import.meta.url))
export const PUBLIC_DIR = fileURLToPath(new URL('../public/', import.meta.url))

/** Templates are compiled once and cached; `<%= %>` escapes HTML (Eta's default). */
export const eta = new Eta({ views: VIEWS_DIR, cache: true, autoEscape: true })

/** Formatting helpers the templates share. */
export const helpers = {
  /** A time as UTC, to the second: `2024-05-01 12:00:05 UTC`. */
  time: (d: Date | string | null | undefined) => (d ? `${new Date(d).toISOString().slice(0, 19).replace('T', ' ')} UTC` : '—'),
  iso: (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : ''),
  /** A JSON value, indented, for a <pre>. */
  json: (v: unknown) => JSON.stringify(v, null, 2) ?? 'null',
  /** A stored body: indented when it is JSON, as it came otherwise. */
  body: (text: string | null) => {
    if (text === null) return ''
    try {
      return JSON.stringify(JSON.parse(text), null, 2)
    } catch {
      return text
    }
  },
  /** The badge colour of a state or an HTTP status. */
  tone: (s: string | number): string => {
    const v = String(s)
    if (['granted', 'processed', 'done', '200', 'ok'].includes(v)) return 'ok'
    if (['pending', 'granting', '202', 'retrying', 'due'].includes(v)) return 'warn'
    if (['failed', '422', '400', '401', '404', '413', '415', 'error'].includes(v)) return 'bad'
    return 'muted'
  }
}

export type Render = (
  reply: FastifyReply,
  view: string,
  data?: Record<string, unknown>,
  status?: number
) => Promise<FastifyReply>

/** Renders a page with the data every page needs (`common`), never cached by a browser or proxy. */
export function createRender (common: (reply: FastifyReply) => Promise<Record<string, unknown>>): Render {
  return async (reply, view, data = {}, status = 200) => {
    const html = eta.render(view, { ...await common(reply), ...data, h: helpers })
    return reply.code(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html)
  }
}
