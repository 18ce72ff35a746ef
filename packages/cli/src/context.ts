import type { CliConfig } from './config.js'

/** Where a command writes: stdout for results, stderr for errors and progress. */
export interface Io {
  out: (text: string) => void
  err: (text: string) => void
}

export interface CommandContext {
  io: Io
  /** The environment, parsed once on first use (commands that need none never load the parser). */
  config: () => Promise<CliConfig>
}

/** A failure the user can act on: printed as one line, exit code 1. */
export class CliError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'CliError'
  }
}

/** A command: parses its own arguments, returns the exit code. */
export type CommandRun = (args: string[], ctx: CommandContext) => Promise<number>
