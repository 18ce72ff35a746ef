export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * Polls `predicate` every 25 ms until it returns true.
 * @param what names the condition in the error; a function can describe the last state seen
 * @throws Error naming `what` after `timeoutMs`
 */
export async function waitFor (
  predicate: () => Promise<boolean> | boolean,
  timeoutMs = 10_000,
  what: string | (() => string | Promise<string>) = 'condition'
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await predicate()) return
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${typeof what === 'function' ? await what() : what}`)
    await sleep(25)
  }
}
