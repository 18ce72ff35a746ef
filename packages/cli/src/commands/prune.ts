import { parseArgs } from 'node:util'
import { CliError, type CommandRun } from '../context.js'
import { DURATION_FORMATS, parseDuration } from '../duration.js'

/** `prune --older-than <duration>`: drop old payloads and personal data, keep the ledger. */
export const run: CommandRun = async (args, { io, config }) => {
  const { values } = parseArgs({ args, strict: true, allowPositionals: false, options: { 'older-than': { type: 'string' } } })
  const olderThan = values['older-than']
  if (olderThan === undefined) throw new CliError(`--older-than is required: ${DURATION_FORMATS}`)
  let ms: number
  try {
    ms = parseDuration(olderThan)
  } catch (err) {
    throw new CliError(`--older-than: ${(err as Error).message}`)
  }
  const env = await config()
  const before = new Date(Date.now() - ms)
  const { runPrune } = await import('../operations/prune.js')
  const report = await runPrune(env, before)
  io.out(JSON.stringify({ olderThan, before: before.toISOString(), ...report }, null, 2))
  return 0
}
