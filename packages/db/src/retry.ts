/** Delays between the attempts of a best-effort write that must not be lost to a short outage. */
export const NOTE_RETRY_DELAYS_MS: readonly number[] = [250, 1000, 2000, 4000, 8000, 16_000]

/** Connection trouble, a timeout, a conflict or a busy server: worth trying again. */
export function isTransientDbError (err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code !== 'string') return true
  if (code === 'CONNECTION_ENDED') return false // our pool was closed: the process is stopping
  if (/^(08|40|53|57)/.test(code)) return true // connection, rollback, resources, operator intervention
  return code.startsWith('CONNECT') || code.startsWith('E') // postgres.js CONNECTION_*, Node's ECONNRESET…
}

/** Postgres refused the data of a row (class 22 data exception, 23 integrity violation), not the connection. */
export function isRefusedData (err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code
  return typeof code === 'string' && /^2[23]/.test(code)
}

/**
 * Runs `write` until it succeeds, retrying transient failures after each of `delays`. The write
 * must be idempotent: one that failed may have committed before the error reached us.
 * @throws the last error once the delays are used up, or at once when it is not transient
 */
export async function retryTransient (
  write: () => Promise<void>,
  delays: readonly number[] = NOTE_RETRY_DELAYS_MS
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await write()
      return
    } catch (err) {
      const delay = delays[attempt]
      if (delay === undefined || !isTransientDbError(err)) throw err
      await new Promise((resolve) => setTimeout(resolve, delay))
    }
  }
}
