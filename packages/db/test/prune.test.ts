import t from 'tap'
import { createTestDatabase } from './helpers/database.js'
import postgres from 'postgres'
import { createDb } from '../src/client.js'
import { prune } from '../src/prune.js'

t.test('prune walks the inbox in batches: every old finished payload, nothing else', async (t) => {
  const { url } = await createTestDatabase(t)
  const { db, close } = createDb(url)
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  t.teardown(async () => { await sql.end(); await close() })
  // 23 old processed rows, with an old pending one and a recent processed one among them.
  await sql`insert into webhook_events (source, event_id, event_type, payload, state, received_at)
    select 'v1', 'ev-' || n, 'lead_signup', '{"data":{}}'::jsonb,
      case when n = 7 then 'pending' else 'processed' end,
      case when n = 12 then now() else now() - interval '40 days' end
    from generate_series(1, 25) n`
  const report = await prune(db, new Date(Date.now() - 30 * 24 * 3600 * 1000), { batchSize: 4, pauseMs: 1 })
  t.equal(report.payloads, 23, 'every old finished payload, across batches')
  const kept = await sql`select event_id from webhook_events where payload is not null order by id`
  t.same(kept.map((r) => r.event_id), ['ev-7', 'ev-12'], 'the pending row and the recent one keep theirs')
  t.equal((await sql`select count(*)::int as n from webhook_events where pruned_at is not null`)[0]!.n, 23)
  const again = await prune(db, new Date(Date.now() - 30 * 24 * 3600 * 1000), { batchSize: 4 })
  t.equal(again.payloads, 0, 'a second run finds nothing')
})
