/**
 * Runs `task` every `intervalMs` in this process, one run at a time (the next starts `intervalMs`
 * after the previous one ended). In-process on purpose: a schedule kept in Redis is lost when
 * Redis comes back empty, and then nothing would ever sweep again.
 * @returns `stop()`, which cancels the next run and waits for a running one
 */
export function runEvery (intervalMs: number, task: () => Promise<unknown>, onError: (err: Error) => void) {
  let stopped = false
  let running: Promise<void> | undefined
  let timer: NodeJS.Timeout | undefined
  const tick = () => {
    running = task()
      .then(() => {}, (err: Error) => { onError(err) })
      .finally(() => {
        running = undefined
        if (!stopped) schedule()
      })
  }
  const schedule = () => { timer = setTimeout(tick, intervalMs) }
  schedule()
  return {
    async stop (): Promise<void> {
      stopped = true
      clearTimeout(timer)
      await running
    }
  }
}
