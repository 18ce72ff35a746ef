import { parseArgs } from 'node:util'
import { CliError, type CommandRun } from '../context.js'

/** `reconcile`: grant and close what FirstPromoter still lists as pending (through the queues). */
export const run: CommandRun = async (args, { io, config }) => {
  parseArgs({ args, strict: true, allowPositionals: false, options: {} })
  const env = await config()
  const apiKey = env.FP_API_KEY
  if (!apiKey) {
    throw new CliError('FP_API_KEY is not set: reconcile reads FirstPromoter\'s pending fulfilments through the v1 API (set FP_API_KEY, and FP_API_URL if not the default)')
  }
  // Loaded once the input is known to be good: the worker package brings BullMQ along.
  const { runReconcile } = await import('../operations/reconcile.js')
  const report = await runReconcile({ ...env, FP_API_KEY: apiKey })
  io.out(JSON.stringify(report, null, 2))
  return 0
}
