import t from 'tap'
import { createDb } from '../src/client.js'
import { getFulfilmentForGrant, upsertFulfilment } from '../src/fulfilments.js'
import { getGrantPauses, listResumable, pauseGrants, resumeGrants } from '../src/grant-pauses.js'
import { createPauseCache } from '../src/pause-cache.js'
import { grantFromLedgerIfUnit } from '../src/ledger.js'
import { createTestDatabase } from './helpers/database.js'

async function setup (t: Parameters<typeof createTestDatabase>[0]) {
  const { url } = await createTestDatabase(t)
  const handle = createDb(url, { max: 4 })
  t.teardown(handle.close)
  const add = (id: number, unit: string) => upsertFulfilment(handle.db, { id, unit, amount: 1, beneficiary: `promoter:${id}`, promoterId: id, custId: null, promoterEmail: null })
  return { db: handle.db, sql: handle.sql, add }
}

t.test('pause and resume: every unit, one unit; pausing again keeps its time and author', async (t) => {
  const { db } = await setup(t)
  t.same(await getGrantPauses(db), { all: null, units: [] })
  const first = await pauseGrants(db, { unit: 'credits', by: 'admin' })
  t.equal(first.created, true)
  const again = await pauseGrants(db, { unit: 'credits', by: 'console session x' })
  t.equal(again.created, false)
  t.same(again.pause, first.pause, 'the first pause stands')
  await pauseGrants(db, { by: 'admin' })
  const status = await getGrantPauses(db)
  t.match(status, { all: { scope: '*', pausedBy: 'admin' }, units: [{ scope: 'credits', pausedBy: 'admin' }] })
  t.same((await resumeGrants(db, { unit: 'points' })), [], 'a unit not paused: nothing lifted')
  t.same((await resumeGrants(db, { unit: 'credits' })).map((p) => p.scope), ['credits'])
  t.same((await resumeGrants(db)).map((p) => p.scope), ['*'], 'no unit: every pause')
  t.same(await getGrantPauses(db), { all: null, units: [] })
})

t.test('the grant read says whether the fulfilment\'s unit is paused', async (t) => {
  const { db, add } = await setup(t)
  await add(1, 'credits')
  await add(2, 'points')
  t.equal((await getFulfilmentForGrant(db, 1))?.paused, false)
  await pauseGrants(db, { unit: 'credits', by: 'admin' })
  t.equal((await getFulfilmentForGrant(db, 1))?.paused, true, 'its unit')
  t.equal((await getFulfilmentForGrant(db, 2))?.paused, false, 'another unit')
  await pauseGrants(db, { by: 'admin' })
  t.equal((await getFulfilmentForGrant(db, 2))?.paused, true, 'every unit')
})

t.test('listResumable: waiting fulfilments of the units asked for that are not paused, paged by id', async (t) => {
  const { db, sql, add } = await setup(t)
  for (let id = 1; id <= 5; id++) await add(id, id % 2 === 0 ? 'points' : 'credits')
  await sql`update fulfilments set state = 'granted' where id = 5`
  await pauseGrants(db, { unit: 'points', by: 'admin' })
  t.same((await listResumable(db)).map((f) => f.id), [1, 3], 'points still paused; 5 granted')
  t.same((await listResumable(db, { units: ['credits'], afterId: 1, limit: 10 })).map((f) => f.id), [3])
  await resumeGrants(db)
  t.same((await listResumable(db, { limit: 2 })).map((f) => f.id), [1, 2])
  t.same((await listResumable(db, { units: ['points'] })), [{ id: 2, unit: 'points', amount: 1 }, { id: 4, unit: 'points', amount: 1 }])
})

t.test('the cache: one read per ttl, dropped at once by invalidate', async (t) => {
  const { db } = await setup(t)
  const cache = createPauseCache(db, { ttlMs: 60_000 })
  t.equal(await cache.isPaused('credits'), false)
  await pauseGrants(db, { unit: 'credits', by: 'admin' })
  t.equal(await cache.isPaused('credits'), false, 'within the ttl, the value read before')
  cache.invalidate()
  t.equal(await cache.isPaused('credits'), true)
  t.equal(await cache.isPaused('points'), false)
  await pauseGrants(db, { by: 'admin' })
  cache.invalidate()
  t.equal(await cache.isPaused('points'), true, 'a pause of every unit covers each')
})

t.test('the one-statement ledger grant of a grant job leaves a paused unit alone', async (t) => {
  const { db, sql, add } = await setup(t)
  await add(31, 'credits')
  await add(32, 'points')
  await add(33, 'credits')
  await pauseGrants(db, { unit: 'credits', by: 'admin' })
  t.equal(await grantFromLedgerIfUnit(db, 31, false, ['credits', 'points']), null, 'a paused unit is not granted')
  t.match(await grantFromLedgerIfUnit(db, 32, false, ['credits', 'points']), { grantedNow: true, unit: 'points' }, 'another unit is')
  await pauseGrants(db, { by: 'admin' })
  t.equal(await grantFromLedgerIfUnit(db, 32, false, ['points']), null, 'granted already')
  await resumeGrants(db, { unit: 'credits' })
  t.equal(await grantFromLedgerIfUnit(db, 33, false, ['credits']), null, 'every unit paused: still held back')
  await resumeGrants(db, {})
  t.match(await grantFromLedgerIfUnit(db, 31, false, ['credits']), { grantedNow: true, unit: 'credits' }, 'resumed: granted')
  const rows = await sql`select fulfilment_id from ledger_entries order by fulfilment_id`
  t.same(rows.map((r) => Number(r.fulfilment_id)), [31, 32], 'one ledger row per granted fulfilment, none for the paused ones')
})
