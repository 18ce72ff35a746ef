/**
 * Awaits a postgres.js query, cancelling it if `signal` aborts first: the caller has given up (the
 * plugin answered 503), so the write must not land afterwards. A query still waiting for a
 * connection (Postgres unreachable) is dropped and never sent; one already sent is cancelled on
 * the server, which leaves only a commit racing the abort.
 */
export async function unlessAborted<T> (
  query: PromiseLike<T> & { cancel: () => unknown },
  signal: AbortSignal | undefined
): Promise<T> {
  if (!signal) return query
  const cancel = () => { query.cancel() }
  signal.addEventListener('abort', cancel, { once: true })
  try {
    return await query
  } finally {
    signal.removeEventListener('abort', cancel)
  }
}
