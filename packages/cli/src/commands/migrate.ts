import { parseArgs } from 'node:util'
import { redactUrl } from '@fp-webhooks/config'
import { migrate } from '@fp-webhooks/db'
import { CliError, type CommandRun } from '../context.js'

/** `migrate`: create the database if missing, apply migrations. */
export const run: CommandRun = async (args, { io, config }) => {
  parseArgs({ args, strict: true, allowPositionals: false, options: {} })
  const { DATABASE_URL } = await config()
  try {
    await migrate(DATABASE_URL)
  } catch (err) {
    throw new CliError(`cannot migrate DATABASE_URL=${redactUrl(DATABASE_URL)}: ${(err as Error).message}`)
  }
  io.out(`migrations applied to ${redactUrl(DATABASE_URL)}`)
  return 0
}
