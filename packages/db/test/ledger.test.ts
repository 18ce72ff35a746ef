import t from 'tap'
import { createDb } from '../src/client.js'
import { upsertFulfilment } from '../src/fulfilments.js'
import { countLedgerEntries, getBalance, insertLedgerEntry } from '../src/ledger.js'
import { createTestDatabase } from './helpers/database.js'

t.test('two concurrent grants of one fulfilment leave exactly one ledger row', async (t) => {
  const { url } = await createTestDatabase(t)
  const a = createDb(url, { max: 5 })
  const b = createDb(url, { max: 5 })
  t.teardown(async () => { await a.close(); await b.close() })

  const facts = { id: 2429153, unit: 'free_months', amount: 3, beneficiary: 'promoter:5272969', promoterId: 5272969, custId: null, promoterEmail: null }
  await upsertFulfilment(a.db, facts)

  const entry = { fulfilmentId: facts.id, beneficiary: facts.beneficiary, promoterId: facts.promoterId, unit: 'free_months', amount: 3 }
  // Each attempt is its own transaction on its own pool, started together.
  const attempts = await Promise.all(Array.from({ length: 20 }, (_, i) =>
    (i % 2 === 0 ? a : b).db.transaction((tx) => insertLedgerEntry(tx, entry))
  ))
  t.equal(attempts.filter((r) => r !== null).length, 1, 'exactly one insert won')
  t.equal(await countLedgerEntries(a.db, facts.id), 1)
  t.equal(await getBalance(a.db, facts.beneficiary, 'free_months'), 3)

  // Even bypassing the helper, the database refuses a second row.
  await t.rejects(a.sql`insert into ledger_entries (fulfilment_id, beneficiary, unit, amount) values (${facts.id}, 'x', 'free_months', 3)`, { code: '23505' })
})

t.test('balances sum per beneficiary and unit', async (t) => {
  const { url } = await createTestDatabase(t)
  const { db, close } = createDb(url)
  t.teardown(close)
  for (const [id, unit, amount] of [[1, 'credits', 10], [2, 'credits', 5], [3, 'free_months', 1]] as const) {
    await upsertFulfilment(db, { id, unit, amount, beneficiary: 'cust:user_42', promoterId: 7, custId: 'user_42', promoterEmail: null })
    await insertLedgerEntry(db, { fulfilmentId: id, beneficiary: 'cust:user_42', unit, amount })
  }
  t.equal(await getBalance(db, 'cust:user_42', 'credits'), 15)
  t.equal(await getBalance(db, 'cust:user_42', 'free_months'), 1)
  t.equal(await getBalance(db, 'cust:someone_else', 'credits'), 0)
})
