import { parseArgs } from 'node:util'
import { CliError, type CommandRun } from '../context.js'

/** `replay <event-id>`: the inbox row's event job again, and its grant unless granted. */
export const run: CommandRun = async (args, { io, config }) => {
  const { positionals } = parseArgs({ args, strict: true, allowPositionals: true, options: {} })
  if (positionals.length !== 1) throw new CliError('expected exactly one <event-id> (the webhook_events id; see --help)')
  const text = positionals[0]!
  if (!/^[1-9][0-9]{0,14}$/.test(text)) throw new CliError(`<event-id> must be a positive integer, got "${text}"`)
  const id = Number(text)
  const env = await config()
  // Loaded once the input is known to be good: the api package brings Fastify along.
  const { runReplay } = await import('../operations/replay.js')
  const result = await runReplay(env, id)
  if (!result) throw new CliError(`event ${id} not found (no webhook_events row with that id)`)
  io.out(JSON.stringify(result, null, 2))
  return 0
}
