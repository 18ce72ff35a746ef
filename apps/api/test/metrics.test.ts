import t from 'tap'
import { build, fixture, fulfilmentPayload, post, startWorker, waitFor } from './helper.js'

function metric (text: string, name: string, labels: Record<string, string> = {}): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`)
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue
    const [series, value] = line.split(' ')
    if (want.every((l) => series!.includes(l)) && (series === name || series!.startsWith(`${name}{`))) return Number(value)
  }
  return 0
}

t.test('metrics move with deliveries, grants, queues and quarantine', async (t) => {
  // Row and job counts are read in the background: refresh them often enough for a test.
  const app = await build(t, { env: { METRICS_REFRESH_MS: '100' } })
  await startWorker(t, app)
  const scrape = async () => {
    const res = await app.server.inject({ method: 'GET', url: '/metrics' })
    t.equal(res.statusCode, 200)
    t.match(res.headers['content-type'], /text\/plain/)
    return res.body
  }
  const before = await scrape()
  t.equal(metric(before, 'fp_webhook_deliveries_total', { event_type: 'lead_signup', status_code: '200' }), 0)

  await post(app.server, fixture('lead_signup.json'))
  await post(app.server, fixture('lead_signup.json'))
  await post(app.server, fulfilmentPayload({ amount: 2 }))
  await post(app.server, '{bad json')
  let after = ''
  await waitFor(async () => {
    after = await scrape()
    return metric(after, 'fp_fulfilments', { unit: 'free_months', state: 'granted' }) === 1 && metric(after, 'fp_quarantine_deliveries') === 1
  }, 5000, 'the next background refresh of the counts')
  t.equal(metric(after, 'fp_webhook_deliveries_total', { event_type: 'lead_signup', status_code: '200' }), 2)
  t.equal(metric(after, 'fp_webhook_deliveries_total', { event_type: 'fulfilment_pending', status_code: '200' }), 1)
  t.equal(metric(after, 'fp_webhook_deliveries_total', { event_type: 'unknown', status_code: '400' }), 1)
  t.equal(metric(after, 'fp_fulfilment_answer_seconds_count', { status_code: '200' }), 1)
  t.equal(metric(after, 'fp_fulfilments', { unit: 'free_months', state: 'granted' }), 1)
  t.equal(metric(after, 'fp_quarantine_deliveries'), 1)
  t.match(after, /fp_queue_jobs\{queue="fp-grants",state="failed"\} 0/)
  t.match(after, /fp_inbox_events\{state="/)
  t.match(after, /fp_api_process_resident_memory_bytes/)
})
