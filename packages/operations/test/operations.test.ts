import { createDb, getFulfilment, markGranted, setApiClose, upsertFulfilment, type Db } from '@fp-webhooks/db'
import { createTestDatabase } from '@fp-webhooks/testing'
import t from 'tap'
import { reconcile, replayEvent, retryClose, retryFulfilment } from '../src/index.js'

interface T { teardown: (fn: () => unknown) => void }

async function database (t: T): Promise<Db> {
  const { url } = await createTestDatabase(t)
  const handle = createDb(url, { max: 2, applicationName: 'operations-test' })
  t.teardown(() => handle.close())
  return handle.db
}

/** The jobs an operation asked for, in order, each answered 'queued'. */
function recordingJobs () {
  const asked: string[] = []
  const answer = (what: string) => async () => { asked.push(what); return 'queued' as const }
  return {
    asked,
    jobs: {
      grant: async (id: number) => answer(`grant ${id}`)(),
      grantNow: async (id: number) => answer(`grantNow ${id}`)(),
      close: async (id: number) => answer(`close ${id}`)(),
      event: async (inboxId: number, type: string) => answer(`event ${inboxId} ${type}`)()
    }
  }
}

const silent = { info: () => {}, warn: () => {} }
const payout = (id: number, amount = 1) => ({ id, amount, unit: 'credits', promoter: { id: id + 1000, cust_id: `cust_${id}`, email: `p${id}@example.com` } })
const facts = (id: number) => ({ id, unit: 'credits', amount: 1, beneficiary: `cust:cust_${id}`, promoterId: id + 1000, custId: `cust_${id}`, promoterEmail: null })

t.test('reconcile records the payouts never received and queues their grants through jobs; a second pass requeues', async (t) => {
  const db = await database(t)
  const { jobs, asked } = recordingJobs()
  const listed = [payout(91001), payout(91002), { id: 91003 }]
  const payouts = { async * listPending () { yield * listed } }

  const first = await reconcile({ db, log: silent, payouts, jobs, canCloseViaApi: true })
  t.same(first, { listed: 3, recovered: 2, requeued: 0, reclosed: 0, invalid: 1 })
  t.same(asked.splice(0), ['grant 91001', 'grant 91002'])
  t.match(await getFulfilment(db, 91001), { source: 'reconcile', answeredPending: true, state: 'pending' })

  const second = await reconcile({ db, log: silent, payouts, jobs, canCloseViaApi: true })
  t.same(second, { listed: 3, recovered: 0, requeued: 2, reclosed: 0, invalid: 1 })
  t.same(asked, ['grant 91001', 'grant 91002'])
})

t.test('retryClose and retryFulfilment: unknown ids are null; a failed close is made due and queued', async (t) => {
  const db = await database(t)
  const { jobs, asked } = recordingJobs()
  t.equal(await retryClose(db, jobs, 424242), null)
  t.equal(await retryFulfilment(db, jobs, 424242), null)
  t.equal(await replayEvent(db, jobs, 424242), null)

  await upsertFulfilment(db, facts(92001), { source: 'webhook', answeredPending: true })
  t.same(await retryFulfilment(db, jobs, 92001), { id: 92001, retried: true, state: 'pending' })
  t.same(asked.splice(0), ['grantNow 92001'])

  t.match(await retryClose(db, jobs, 92001), { id: 92001, retried: false }, 'not granted: no close to retry')
  await markGranted(db, 92001, true)
  await setApiClose(db, 92001, 'failed')
  t.same(await retryClose(db, jobs, 92001), { id: 92001, retried: true, apiClose: 'pending' })
  t.same(asked, ['close 92001'])
})
