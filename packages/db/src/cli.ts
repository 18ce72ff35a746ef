import { migrate } from './migrate.js'

// `node packages/db/dist/cli.js`: create the database if needed and apply migrations.
const url = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/firstpromoter'
try {
  await migrate(url)
  console.log('migrations applied')
} catch (err) {
  const safe = url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@')
  console.error(`migrate: cannot migrate DATABASE_URL=${safe}: ${(err as Error).message}`)
  process.exit(1)
}
