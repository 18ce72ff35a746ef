import { parseArgs } from 'node:util'
import type { CommandRun } from '../context.js'
import { CliError } from '../context.js'
import { formatProgress, formatReport } from '../format.js'
import { parseSet } from '../set-path.js'
import { allSucceeded, simulate } from '../simulate.js'

function int (name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined
  if (!/^[0-9]{1,15}$/.test(text) || Number(text) < min) throw new CliError(`--${name} must be a whole number >= ${min}, got "${text}"`)
  return Number(text)
}

/** `simulate`: FirstPromoter's deliveries against a webhook URL; exit 2 unless all succeeded. */
export const run: CommandRun = async (args, { io }) => {
  const { values, positionals } = parseArgs({
    args,
    strict: true,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      type: { type: 'string' },
      set: { type: 'string', multiple: true },
      header: { type: 'string', multiple: true },
      'basic-auth': { type: 'string' },
      count: { type: 'string' },
      concurrency: { type: 'string' },
      'recheck-interval': { type: 'string' },
      'retry-interval': { type: 'string' },
      'max-rechecks': { type: 'string' },
      'max-retries': { type: 'string' },
      timeout: { type: 'string' },
      json: { type: 'boolean', default: false }
    }
  })
  if (positionals.length > 0) throw new CliError(`unexpected argument "${positionals[0]}" (see --help)`)
  if (!values.url) throw new CliError('--url is required: the webhook URL, secret included (see --help)')
  let set
  try {
    set = (values.set ?? []).map(parseSet)
  } catch (err) {
    throw new CliError((err as Error).message)
  }
  const headers: Record<string, string> = {}
  for (const h of values.header ?? []) {
    const at = h.indexOf(':')
    if (at < 1) throw new CliError(`--header must be "Name: value", got "${h.slice(0, 40)}"`)
    headers[h.slice(0, at).trim().toLowerCase()] = h.slice(at + 1).trim()
  }
  const json = values.json === true
  const options = {
    url: values.url,
    type: values.type,
    set,
    headers,
    basicAuth: values['basic-auth'],
    count: int('count', values.count, 1),
    concurrency: int('concurrency', values.concurrency, 1),
    recheckIntervalMs: int('recheck-interval', values['recheck-interval'], 0),
    retryIntervalMs: int('retry-interval', values['retry-interval'], 0),
    maxRechecks: int('max-rechecks', values['max-rechecks'], 0),
    maxRetries: int('max-retries', values['max-retries'], 0),
    timeoutMs: int('timeout', values.timeout, 1)
  }
  let reports
  try {
    reports = await simulate({
      ...options,
      onAttempt: json ? undefined : (report, attempt, next) => { io.err(formatProgress(report, attempt, next)) },
      onReport: (report) => { io.out(json ? JSON.stringify(report) : formatReport(report)) }
    })
  } catch (err) {
    // Options are checked before anything is sent; a TypeError here is bad input.
    if (err instanceof TypeError) throw new CliError(err.message)
    throw err
  }
  return allSucceeded(reports) ? 0 : 2
}
