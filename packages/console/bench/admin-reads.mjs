// The console's reads on big tables: seeds a scratch database with 1,000,000 inbox rows over 30
// days (2% fulfilments, 14 other types, some failed) and 20,000 fulfilments, then times each read
// (median and worst of 5). Run after `pnpm -w build`:
//   node packages/console/bench/admin-reads.mjs [postgres://postgres@127.0.0.1:5432/fpw_console_bench]
// The database is created (and migrated) if missing, and dropped at the end.
import postgres from 'postgres'
import { createDb, migrate, getGlance, listEventTypes, listFulfilmentDeliveries, listNeedsAttention, listQuarantinePage, searchEvents } from '@fp-webhooks/db'

const url = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/fpw_console_bench'
await migrate(url)
const sql = postgres(url, { max: 1, onnotice: () => {} })
const types = ['lead_signup', 'lead_becomes_referral', 'promoter_accepted', 'promoter_signed_up', 'reward_created', 'new_customer', 'commission.updated', 'lead_cancelled', 'subscription_updated', 'reward_approved', 'payout_created', 'promoter_updated', 'lead_updated', 'customer_updated']
console.log('seeding…')
await sql`
  insert into webhook_events (source, event_id, event_type, received_at, payload, state, attempts, processed_at)
  select 'v1', 'ev-' || g,
    case when g % 50 = 0 then 'fulfilment_pending' else (${types}::text[])[1 + g % 14] end,
    now() - interval '30 days' + (g * interval '30 days' / 1000000),
    case when g % 50 = 0 then jsonb_build_object('event', jsonb_build_object('id', g), 'data', jsonb_build_object('id', 5000000 + g / 50, 'unit', 'credits', 'amount', 1))
      else jsonb_build_object('event', jsonb_build_object('id', g), 'data', jsonb_build_object('id', g)) end,
    case when g % 997 = 0 then 'failed' when g > 999900 then 'pending' else 'processed' end, 1, now()
  from generate_series(1, 1000000) g`
await sql`
  insert into fulfilments (id, unit, amount, beneficiary, state, attempts, updated_at, granted_at, last_error, failure_reason, api_close, api_close_error, first_event_id)
  select 5000000 + g, 'credits', 1, 'promoter:' || g,
    case when g % 500 = 0 then 'failed' when g % 333 = 0 then 'pending' else 'granted' end, 1,
    now() - interval '30 days' + (g * interval '30 days' / 20000),
    case when g % 500 <> 0 and g % 333 <> 0 then now() - interval '30 days' + (g * interval '30 days' / 20000) end,
    case when g % 333 = 0 then 'billing down' when g % 500 = 0 then 'no customer' end,
    case when g % 500 = 0 then 'no customer' end,
    case when g % 700 = 0 and g % 500 <> 0 and g % 333 <> 0 then 'failed' else 'not_needed' end,
    case when g % 700 = 0 then '401' end, 'ev-' || (g * 50)
  from generate_series(1, 20000) g`
await sql`insert into ledger_entries (fulfilment_id, beneficiary, unit, amount, granted_at) select id, beneficiary, unit, amount, granted_at from fulfilments where state = 'granted'`
await sql`vacuum analyze`

const { db, close } = createDb(url, { max: 2 })
const cases = {
  'needs a human': () => listNeedsAttention(db, 50),
  'at a glance (48 h)': () => getGlance(db, 48),
  'events, newest': () => searchEvents(db, {}),
  'events, page 2': async () => searchEvents(db, { after: (await searchEvents(db, {})).next ?? undefined }),
  'events by type': () => searchEvents(db, { type: 'reward_created' }),
  'events by type, 20 days back': () => searchEvents(db, { type: 'reward_created', to: new Date(Date.now() - 20 * 86400e3) }),
  'events, 25 days back (any type)': () => searchEvents(db, { to: new Date(Date.now() - 25 * 86400e3) }),
  'failed events': () => searchEvents(db, { state: 'failed' }),
  'events by id': () => searchEvents(db, { id: 'ev-123456' }),
  'event types': () => listEventTypes(db),
  "a fulfilment's deliveries": () => listFulfilmentDeliveries(db, 5004321, ['ev-216050']),
  quarantine: () => listQuarantinePage(db)
}
console.log('| read | median | worst of 5 |\n| --- | --- | --- |')
for (const [name, run] of Object.entries(cases)) {
  await run()
  const times = []
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now()
    await run()
    times.push(performance.now() - t0)
  }
  times.sort((a, b) => a - b)
  console.log(`| ${name} | ${times[2].toFixed(1)} ms | ${times[4].toFixed(1)} ms |`)
}
await close()
const name = new URL(url).pathname.slice(1)
await sql.end()
const admin = postgres(Object.assign(new URL(url), { pathname: '/postgres' }).toString(), { max: 1, onnotice: () => {} })
await admin.unsafe(`drop database if exists "${name}" with (force)`)
await admin.end()
