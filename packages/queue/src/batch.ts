/**
 * Coalesces calls made in the same event-loop turn into one `flush` (e.g. one `addBulk`: one
 * round trip to Redis instead of one per job). Each caller's promise settles with its batch.
 */
export function createBatcher<T> (flush: (items: T[]) => Promise<void>, maxBatch = 500) {
  const pending: Array<{ item: T, resolve: () => void, reject: (err: unknown) => void }> = []
  let scheduled = false
  const run = async () => {
    scheduled = false
    const batch = pending.splice(0, maxBatch)
    if (pending.length > 0) schedule()
    try {
      await flush(batch.map((b) => b.item))
      for (const b of batch) b.resolve()
    } catch (err) {
      for (const b of batch) b.reject(err)
    }
  }
  const schedule = () => {
    scheduled = true
    setImmediate(() => { run().catch(() => {}) })
  }
  return (item: T) => new Promise<void>((resolve, reject) => {
    pending.push({ item, resolve, reject })
    if (!scheduled) schedule()
  })
}
