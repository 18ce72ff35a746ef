import { Writable } from 'node:stream'

/**
 * A writable stream for a pino/Fastify logger that keeps every line, so a test can assert that
 * no secret was ever logged.
 */
export function captureLogs () {
  const lines: string[] = []
  const stream = new Writable({
    write (chunk: Buffer, _enc, cb) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean))
      cb()
    }
  })
  return {
    stream,
    lines,
    text: () => lines.join('\n')
  }
}
