#!/usr/bin/env node
import { loadDotEnv } from '@fp-webhooks/config'
import { main } from './main.js'

// `… | head` closes the pipe early: that is the reader's choice, not an error of ours.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err
    process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0)
  })
}

// A .env in the working directory fills what the environment leaves unset.
loadDotEnv()

// Every command closes what it opened, so the process ends by itself once the code is set.
process.exitCode = await main(process.argv.slice(2))
