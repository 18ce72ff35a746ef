import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseEnv } from 'node:util'

/**
 * Reads a `.env` file into the environment when there is one: each variable the environment does
 * not set already (the environment wins over the file, as with `node --env-file`). A missing file
 * is not an error. Node's own parser (`util.parseEnv`): `KEY=value`, quotes, `#` comments.
 * @param path relative to the working directory
 * @returns the file's absolute path when it was read, else undefined
 */
export function loadDotEnv (path = '.env', env: NodeJS.ProcessEnv = process.env): string | undefined {
  const file = resolve(path)
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  for (const [name, value] of Object.entries(parseEnv(text))) {
    if (env[name] === undefined) env[name] = value
  }
  return file
}
