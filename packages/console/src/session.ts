import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'

/** The session cookie: the session's id and its end, signed (@fastify/cookie). Never the token. */
export const SESSION_COOKIE = 'fp_console'
export const CSRF_COOKIE = 'fp_console_csrf'

export interface ConsoleSession {
  /** Random; binds the CSRF tokens to this login. */
  id: string
  expiresAt: number
}

/** The cookie key when none is given: the token stretched through HMAC under a fixed label. */
export function deriveSessionSecret (token: string): Buffer {
  return createHmac('sha256', token).update('fp-webhooks console session v1').digest()
}

/** Compares a presented token with the admin token in constant time (both hashed to one length). */
export function tokenMatches (token: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length === 0) return false
  const a = createHash('sha256').update(token).digest()
  const b = createHash('sha256').update(presented).digest()
  return timingSafeEqual(a, b)
}

export function cookieOptions (path: string) {
  return { path, httpOnly: true, secure: true, sameSite: 'strict' as const }
}

/** Sets a new session cookie. */
export function startSession (reply: FastifyReply, path: string, ttlMs: number): ConsoleSession {
  const session = { id: randomBytes(16).toString('base64url'), expiresAt: Date.now() + ttlMs }
  reply.setCookie(SESSION_COOKIE, `${session.id}.${session.expiresAt}`, { ...cookieOptions(path), signed: true, maxAge: Math.floor(ttlMs / 1000) })
  return session
}

export function endSession (reply: FastifyReply, path: string): void {
  reply.clearCookie(SESSION_COOKIE, cookieOptions(path))
}

/** The request's session: a cookie signed by us and not expired, or null. */
export function readSession (req: FastifyRequest): ConsoleSession | null {
  const raw = req.cookies[SESSION_COOKIE]
  if (!raw) return null
  const unsigned = req.unsignCookie(raw)
  if (!unsigned.valid || unsigned.value === null) return null
  const match = /^([A-Za-z0-9_-]{22})\.(\d{13})$/.exec(unsigned.value)
  if (!match) return null
  const expiresAt = Number(match[2])
  return expiresAt > Date.now() ? { id: match[1]!, expiresAt } : null
}
