/*
 * Counts the messages clients send to Postgres (its frontend protocol), per type, from the bytes
 * a test's TCP proxy forwards. Every Sync, Flush or simple Query is a point where the client waits
 * for the server: one round trip each. A Parse is a statement the server parses (and plans) again.
 */

const SSL_REQUEST = 80877103
const GSS_REQUEST = 80877104

export interface ProtocolCounts {
  roundTrips: number
  parses: number
}

export function createProtocolCounter () {
  const streams = new Map<number, { pending: Buffer, started: boolean }>()
  const counts: ProtocolCounts = { roundTrips: 0, parses: 0 }

  function count (type: string) {
    if (type === 'S' || type === 'H' || type === 'Q') counts.roundTrips++
    else if (type === 'P') counts.parses++
  }

  return {
    /** Pass as the proxy's `onClientData`. */
    feed (chunk: Buffer, connection: number) {
      const stream = streams.get(connection) ?? { pending: Buffer.alloc(0), started: false }
      streams.set(connection, stream)
      let buf = Buffer.concat([stream.pending, chunk])
      for (;;) {
        if (!stream.started) {
          // The startup message (and an SSL or GSS request before it) carries no type byte.
          if (buf.length < 8) break
          const length = buf.readInt32BE(0)
          if (buf.length < length) break
          const code = buf.readInt32BE(4)
          if (code !== SSL_REQUEST && code !== GSS_REQUEST) stream.started = true
          buf = buf.subarray(length)
          continue
        }
        if (buf.length < 5) break
        const length = buf.readInt32BE(1)
        if (buf.length < 1 + length) break
        count(String.fromCharCode(buf[0]!))
        buf = buf.subarray(1 + length)
      }
      stream.pending = buf
    },
    /** What `run` sent: its round trips and the statements it had parsed. */
    async cost (run: () => Promise<unknown>): Promise<ProtocolCounts> {
      const before = { ...counts }
      await run()
      return { roundTrips: counts.roundTrips - before.roundTrips, parses: counts.parses - before.parses }
    }
  }
}
