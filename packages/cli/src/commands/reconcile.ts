import { parseArgs } from 'node:util'
import { CliError, type CommandRun } from '../context.js'

/** `reconcile`: grant and close what FirstPromoter still lists as pending (through the queues). */
export const run: CommandRun = async (args, { io, config }) => {
  parseArgs({ args, strict: true, allowPositionals: false, options: {} })
  const env = await config()
  if (!env.FP_API_KEY && !(env.FP_API_V2_KEY && env.FP_ACCOUNT_ID)) {
    throw new CliError('FP_API_KEY is not set: reconcile reads FirstPromoter\'s pending fulfilments through the v1 API (set FP_API_KEY, and FP_API_URL if not the default), or its approved v2 commissions (set FP_API_V2_KEY and FP_ACCOUNT_ID)')
  }
  // Loaded once the input is known to be good: the worker package brings BullMQ along.
  const { runReconcile } = await import('../operations/reconcile.js')
  const report = await runReconcile(env)
  io.out(JSON.stringify(report, null, 2))
  return 0
}
