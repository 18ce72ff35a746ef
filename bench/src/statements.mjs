// Per-statement latency of the hot statements, run by hand (not part of `pnpm bench`):
//
//   npx tsc -b && node bench/src/statements.mjs          # STATEMENT_RUNS=5000 by default
//
// "before" is each statement as it was written until issue 13: a postgres.js tagged template on
// the raw client, which could not run in a caller's transaction. "after" is the db package's
// statement today (built from the schema's columns, run prepared on a Db or Tx). Both run on the
// same one-connection pool, in alternating batches, so the machine's load hits them alike. A
// plain Drizzle select (two round trips) is shown for reference.
import { createDb, createPostgresStore, getFulfilment, getFulfilmentForGrant, grantFromLedger } from '@fp-webhooks/db'
import { cleanupAll, createDatabase, createTemplate } from './lib/infra.mjs'
// What the store applied to every value before, as now: both sides pay for the same conversions.
import { storableJsonText, storableString } from '../../packages/db/dist/storable.js'

const RUNS = Number(process.env.STATEMENT_RUNS ?? 5000)
const BATCH = 250

// The statements as they were (packages/db before issue 13), verbatim but for the function frame.
const before = {
  insertEvent: (sql, e) => sql`
    insert into webhook_events (source, event_id, event_type, dedupe_key, event_created_at, payload)
    values (${e.source}, ${e.eventId}, ${e.eventType}, ${e.dedupeKey}, ${e.eventCreatedAt?.toISOString() ?? null}::timestamptz, ${e.payloadJson}::jsonb)
    on conflict do nothing
    returning id::text as id`,
  recordFulfilment: (sql, event, facts) => sql`
    with ev as (
      insert into webhook_events (source, event_id, event_type, event_created_at, payload)
      values (${event.source}, ${event.eventId}, ${event.eventType}, ${event.eventCreatedAt?.toISOString() ?? null}::timestamptz, ${event.payloadJson}::jsonb)
      on conflict do nothing
      returning id
    ), f as (
      insert into fulfilments (id, unit, amount, beneficiary, promoter_id, cust_id, promoter_email, first_event_id, awaiting_answer)
      values (${facts.id}, ${facts.unit}, ${facts.amount}, ${facts.beneficiary}, ${facts.promoterId}, ${facts.custId}, ${facts.promoterEmail}, ${event.eventId}, true)
      on conflict (id) do nothing
      returning state, failure_reason
    )
    select (select id::text from ev) as inbox_id, (select state from f) as state, (select failure_reason from f) as failure_reason`,
  status: (sql, id) => sql`select state, failure_reason from fulfilments where id = ${id}`,
  settle: (sql, id) => sql`
    update fulfilments set answered_pending = answered_pending or state in ('pending', 'granting')
    where id = ${id} returning state, failure_reason`,
  recordAnswer: (sql, answer) => {
    const at = answer.answeredAt.toISOString()
    return sql`
      with note as (
        insert into fulfilment_answers (fulfilment_id, event_id, status_code, reason, answered_at)
        select ${answer.fulfilmentId}, ${answer.eventId}, ${answer.statusCode}, ${answer.reason}, ${at}::timestamptz
        where not exists (
          select 1 from fulfilment_answers
          where fulfilment_id = ${answer.fulfilmentId} and answered_at = ${at}::timestamptz and event_id is not distinct from ${answer.eventId}
        )
      ), told_done as (
        update fulfilments set
          awaiting_answer = false,
          api_close = case when api_close = 'pending' then 'not_needed' else api_close end,
          updated_at = now()
        where id = ${answer.fulfilmentId} and ${answer.statusCode}::int = 200 and (awaiting_answer or api_close = 'pending')
      )
      select 1`
  },
  grantRead: (sql, id) => sql`select unit, amount::text as amount, state, api_close, answered_pending from fulfilments where id = ${id}`,
  grant: (sql, fulfilmentId, closeViaApi) => sql`
    with f as (
      select id, beneficiary, promoter_id, cust_id, unit, amount from fulfilments
      where id = ${fulfilmentId} and state in ('pending', 'granting')
    ), entry as (
      insert into ledger_entries (fulfilment_id, beneficiary, promoter_id, cust_id, unit, amount)
      select id, beneficiary, promoter_id, cust_id, unit, amount from f
      on conflict (fulfilment_id) do nothing
      returning fulfilment_id
    )
    update fulfilments set
      state = 'granted', granted_at = now(), updated_at = now(), last_error = null, failure_reason = null,
      attempts = fulfilments.attempts + 1,
      api_close = case when ${closeViaApi}::boolean and (fulfilments.answered_pending or fulfilments.awaiting_answer) then 'pending' else fulfilments.api_close end
    from entry where fulfilments.id = entry.fulfilment_id
    returning fulfilments.api_close, fulfilments.answered_pending`
}

const PAYLOAD = { event: { id: 0, type: 'lead_signup', created_at: '2024-10-03T13:45:20.103Z' }, data: { id: 1, email: 'lead@example.com', state: 'signup', promoter: { id: 7, email: 'p@example.com' }, notes: 'x'.repeat(2000) } }
const facts = (id) => ({ id, unit: 'credits', amount: 3, beneficiary: `promoter:${id}`, promoterId: id, custId: null, promoterEmail: null })
const delivery = (eventId, fulfilment) => ({ source: 'v1', eventId, eventType: fulfilment ? 'fulfilment_pending' : 'lead_signup', eventCreatedAt: new Date(), dedupeKey: null, payload: PAYLOAD, ...(fulfilment ? { fulfilment } : {}) })

function stats (samples) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
  const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length
  return { mean, p50: at(0.5), p99: at(0.99) }
}

/** Runs `variants` (name → fn(i)) RUNS times each, alternating batches. @returns samples in µs */
async function measure (variants) {
  const samples = Object.fromEntries(Object.keys(variants).map((k) => [k, []]))
  for (let start = 0; start < RUNS; start += BATCH) {
    for (const [name, run] of Object.entries(variants)) {
      for (let i = start; i < Math.min(start + BATCH, RUNS); i++) {
        const t0 = process.hrtime.bigint()
        await run(i)
        samples[name].push(Number(process.hrtime.bigint() - t0) / 1000)
      }
    }
  }
  return samples
}

await createTemplate()
const results = []
try {
  const { url } = await createDatabase('statements')
  const { db, sql, close } = createDb(url, { max: 1 })
  const store = createPostgresStore(db)
  // Fulfilments 1..RUNS are the "before" side's, RUNS+1..2·RUNS the "after" side's.
  const beforeId = (i) => i + 1
  const afterId = (i) => RUNS + i + 1
  const cases = [
    ['ingest insert', {
      before: (i) => before.insertEvent(sql, { source: 'v1', eventId: storableString(`b-${i}`), eventType: storableString('lead_signup'), dedupeKey: storableString(null), eventCreatedAt: new Date(), payloadJson: storableJsonText(PAYLOAD) }),
      after: (i) => store.record(delivery(`a-${i}`))
    }],
    ['fulfilment record', {
      before: (i) => {
        const f = facts(beforeId(i))
        const stored = {
          ...f,
          unit: storableString(f.unit),
          beneficiary: storableString(f.beneficiary),
          custId: storableString(f.custId),
          promoterEmail: storableString(f.promoterEmail)
        }
        return before.recordFulfilment(sql, { source: 'v1', eventId: storableString(`bf-${i}`), eventType: storableString('fulfilment_pending'), eventCreatedAt: new Date(), payloadJson: storableJsonText(PAYLOAD) }, stored)
      },
      after: (i) => store.record(delivery(`af-${i}`, facts(afterId(i))))
    }],
    ['status read', { before: (i) => before.status(sql, beforeId(i)), after: (i) => store.fulfilmentStatus(afterId(i)) }],
    ['settle', { before: (i) => before.settle(sql, beforeId(i)), after: (i) => store.settleAnswer(afterId(i)) }],
    ['answer history', {
      before: (i) => before.recordAnswer(sql, { fulfilmentId: beforeId(i), eventId: `bf-${i}`, statusCode: 202, reason: null, answeredAt: new Date() }),
      after: (i) => store.noteAnswer({ fulfilmentId: afterId(i), eventId: `af-${i}`, statusCode: 202, reason: null })
    }],
    ['grant read', { before: (i) => before.grantRead(sql, beforeId(i)), after: (i) => getFulfilmentForGrant(db, afterId(i)) }],
    ['ledger grant', { before: (i) => before.grant(sql, beforeId(i), true), after: (i) => grantFromLedger(db, afterId(i), true) }],
    ['reference: plain Drizzle select', { after: (i) => getFulfilment(db, afterId(i)) }]
  ]
  for (const [name, variants] of cases) {
    const samples = await measure(variants)
    results.push({ name, before: samples.before && stats(samples.before), after: stats(samples.after) })
    process.stderr.write(`${name} done\n`)
  }
  const [check] = await sql`select count(*) filter (where state = 'granted')::int as granted, (select count(*)::int from ledger_entries) as ledger from fulfilments`
  if (check.granted !== 2 * RUNS || check.ledger !== 2 * RUNS) throw new Error(`expected ${2 * RUNS} grants, got ${JSON.stringify(check)}`)
  await close()
} finally {
  const errors = await cleanupAll()
  if (errors.length) console.error(errors)
}

const f = (x) => x === undefined ? '' : x.toFixed(0)
console.log(`${RUNS} sequential executions of each statement, one connection, µs per statement (mean / p50 / p99)\n`)
console.log('| statement | before mean | before p50 | before p99 | after mean | after p50 | after p99 |')
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |')
for (const r of results) {
  console.log(`| ${r.name} | ${f(r.before?.mean)} | ${f(r.before?.p50)} | ${f(r.before?.p99)} | ${f(r.after.mean)} | ${f(r.after.p50)} | ${f(r.after.p99)} |`)
}
