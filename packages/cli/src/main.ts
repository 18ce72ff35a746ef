import type { CliConfig } from './config.js'
import type { CommandContext, CommandRun, Io } from './context.js'
import { BIN, COMMAND_USAGE, USAGE } from './usage.js'

// Loaded on demand: `simulate` and `--help` must not pay for Postgres, BullMQ and Fastify.
const COMMANDS: Record<string, () => Promise<{ run: CommandRun }>> = {
  migrate: () => import('./commands/migrate.js'),
  replay: () => import('./commands/replay.js'),
  reconcile: () => import('./commands/reconcile.js'),
  prune: () => import('./commands/prune.js'),
  simulate: () => import('./commands/simulate.js')
}

const consoleIo: Io = {
  out: (text) => { process.stdout.write(`${text}\n`) },
  err: (text) => { process.stderr.write(`${text}\n`) }
}

function oneLine (err: unknown): string {
  const e = err as { message?: unknown, code?: unknown }
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : String(err)
  // node:util parseArgs explains at length how to pass a dash value; the first sentence is enough.
  const first = message.split('\n')[0]!
  return typeof e?.code === 'string' && e.code.startsWith('ERR_PARSE_ARGS') ? `${first.replace(/\. To specify.*$/, '')} (see --help)` : first
}

/**
 * Runs one command.
 * @param argv the arguments after the program name (`['prune', '--older-than', '30d']`)
 * @returns the exit code: 0 success, 1 bad input or a failure, 2 (simulate) some delivery did not succeed
 */
export async function main (
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  io: Io = consoleIo
): Promise<number> {
  const [name, ...args] = argv
  if (name === undefined) {
    io.err(USAGE)
    return 1
  }
  if (name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? args[0] : undefined
    io.out(topic && COMMAND_USAGE[topic] ? COMMAND_USAGE[topic] : USAGE)
    return 0
  }
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined
  if (!load) {
    io.err(`${BIN}: unknown command "${name}" (one of: ${Object.keys(COMMANDS).join(', ')}; see --help)`)
    return 1
  }
  if (args.includes('--help') || args.includes('-h')) {
    io.out(COMMAND_USAGE[name]!)
    return 0
  }
  let config: Promise<CliConfig> | undefined
  const ctx: CommandContext = { io, config: () => (config ??= import('./config.js').then((m) => m.loadCliConfig(env))) }
  try {
    const { run } = await load()
    return await run(args, ctx)
  } catch (err) {
    io.err(`${BIN} ${name}: ${oneLine(err)}`)
    if (env.LOG_LEVEL === 'debug' || env.LOG_LEVEL === 'trace') io.err(String((err as Error)?.stack ?? ''))
    return 1
  }
}
