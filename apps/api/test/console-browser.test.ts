import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { AddressInfo } from 'node:net'
import { startFakeFirstPromoter } from '@fp-webhooks/firstpromoter-api/fake'
import { PermanentGrantError } from '@fp-webhooks/worker'
import { chromium, type BrowserContext } from 'playwright-core'
import t from 'tap'
import { build, fixture, fulfilmentPayload, post, sleep, startWorker, waitFor } from './helper.js'

/*
 * The console in a real browser: Debian's Chromium driven by playwright-core, against a real api
 * server on a free port, a real worker, the fake FirstPromoter API, a test database and a Redis
 * prefix of its own. The scenarios share them and run in order. Each page is saved as a screenshot
 * (CI_ARTIFACTS_DIR/console-screenshots, or test/screenshots/ here, which git ignores).
 *
 * To add a scenario: another `t.test` below that uses `open`, `shot` and the shared `app`.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const TOKEN = 'admin-token-0123456789abcdef'
const SHOTS = process.env.CI_ARTIFACTS_DIR ? join(process.env.CI_ARTIFACTS_DIR, 'console-screenshots') : resolve('test/screenshots')

if (!existsSync(CHROMIUM)) {
  // CI installs it (.ci/run); a developer without it is told, not failed.
  if (process.env.CI) t.fail(`no Chromium at ${CHROMIUM}: apt-get install -y chromium`)
  else t.pass(`skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`)
} else {
  await scenarios()
}

async function scenarios () {
  const fake = await startFakeFirstPromoter()
  t.teardown(() => fake.close())
  const app = await build(t, { env: { ADMIN_TOKEN: TOKEN, FP_FULFILMENT_WAIT_MS: '300' } })
  let customerExists = false
  await startWorker(t, app, {
    api: { v1: { apiKey: fake.apiKey, baseUrl: fake.url } },
    grants: {
      credits: () => { if (!customerExists) throw new PermanentGrantError('no customer user_9 in billing') },
      free_months: async () => { await sleep(1200) } // slower than the wait: answered 202
    }
  })
  await app.server.listen({ port: 0, host: '127.0.0.1' })
  const origin = `http://127.0.0.1:${(app.server.server.address() as AddressInfo).port}`

  const profile = mkdtempSync(join(tmpdir(), 'fpw-chromium-'))
  const browser: BrowserContext = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 900 }
  })
  t.teardown(async () => {
    await browser.close().catch(() => {})
    rmSync(profile, { recursive: true, force: true })
  })
  mkdirSync(SHOTS, { recursive: true })
  const page = await browser.newPage()
  // Whatever the browser refuses (a CSP violation, a failed load) or a script throws.
  const problems: string[] = []
  // A page answered 401 (a refused login) is one the browser reports too: not a problem.
  page.on('console', (m) => { if (m.type() === 'error' && !/status of 401/.test(m.text())) problems.push(m.text()) })
  page.on('pageerror', (e) => problems.push(e.message))

  const open = async (path: string) => {
    const res = await page.goto(`${origin}${path}`)
    return res?.status()
  }
  const shot = async (name: string) => {
    const file = join(SHOTS, `${name}.png`)
    await page.screenshot({ path: file, fullPage: true })
    t.comment(`screenshot: ${file}`)
  }
  const noProblems = (t: { same: (a: unknown, b: unknown, m: string) => unknown }, where: string) => {
    t.same(problems.splice(0), [], `${where}: no CSP violation, failed load or script error`)
  }

  t.test('a wrong token is refused', async (t) => {
    t.equal(await open('/admin/console'), 200)
    await page.fill('#token', 'not-the-admin-token-at-all')
    await Promise.all([page.waitForURL('**/admin/console/login'), page.click('form[action$="/login"] button')])
    t.match(await page.textContent('.notice.bad'), 'That is not the admin token')
    t.same((await browser.cookies()).filter((c) => c.name === 'fp_console'), [], 'no session')
    await shot('01-login-refused')
    noProblems(t, 'login')
  })

  t.test('log in', async (t) => {
    await open('/admin/console')
    await page.fill('#token', TOKEN)
    await Promise.all([page.waitForURL(`${origin}/admin/console/`), page.click('form[action$="/login"] button')])
    t.equal(await page.textContent('h2#needs'), 'Needs a human')
    const session = (await browser.cookies()).find((c) => c.name === 'fp_console')
    t.match(session, { httpOnly: true, secure: true, sameSite: 'Strict', path: '/admin/console' }, 'the browser keeps a Secure, HttpOnly, SameSite=Strict cookie')
    t.notMatch(decodeURIComponent(session!.value), TOKEN)
    await shot('02-overview-empty')
    noProblems(t, 'overview')
  })

  t.test('a failed fulfilment: its reason, Retry once its cause is fixed, then granted', async (t) => {
    const ful = fulfilmentPayload({ unit: 'credits', amount: 10 })
    t.equal((await post(app.server, ful)).statusCode, 422)
    await open('/admin/console')
    const row = page.locator('tr', { has: page.locator(`a[href$="/fulfilments/${ful.data.id}"]`) })
    t.match(await row.locator('td.reason').textContent(), 'no customer user_9 in billing')
    await shot('03-needs-a-human')

    customerExists = true
    await Promise.all([page.waitForURL('**/admin/console/?notice=retried*'), row.locator('button', { hasText: 'Retry' }).click()])
    t.match(await page.textContent('.notice'), `Fulfilment ${ful.data.id}: its grant is queued again.`)
    await waitFor(async () => (await app.sql`select state from fulfilments where id = ${ful.data.id}`)[0].state === 'granted', 10_000, 'granted')
    await open(`/admin/console/fulfilments/${ful.data.id}`)
    t.match(await page.textContent('h1'), 'granted')
    t.match(await page.textContent('ol.timeline'), 'Granted 10 credits')
    await shot('04-retried-and-granted')
    noProblems(t, 'retry')
  })

  t.test('resubmit a corrected quarantined body: accepted', async (t) => {
    const ful = fulfilmentPayload({ unit: 'credits', amount: 3 })
    ful.data.amount = 'three'
    t.equal((await post(app.server, ful)).statusCode, 400)
    const [q] = await app.sql`select id from quarantine order by id desc limit 1`
    await open('/admin/console/quarantine')
    const card = page.locator(`#q${q.id}`)
    t.match(await card.locator('.field-errors').textContent(), '/data/amount')
    await card.locator('summary', { hasText: 'corrected' }).click()
    ful.data.amount = 3
    await card.locator('textarea').fill(JSON.stringify(ful, null, 2))
    await shot('05-quarantine-correcting')
    await Promise.all([page.waitForURL('**/quarantine?notice=resubmitted*'), card.locator('button', { hasText: 'Resubmit corrected' }).click()])
    t.match(await page.textContent('.notice'), `Quarantined delivery ${q.id} was accepted (answered 200).`)
    t.equal((await app.sql`select state from fulfilments where id = ${ful.data.id}`)[0]?.state, 'granted', 'stored and granted through the normal path')
    await shot('06-quarantine-resubmitted')
    noProblems(t, 'quarantine')
  })

  t.test("the timeline of a fulfilment answered 202, then granted and closed through FirstPromoter's API", async (t) => {
    const ful = fulfilmentPayload({ unit: 'free_months', amount: 1, custId: 'user_77' })
    fake.addPayout({ ...ful.data, status: 'pending' })
    t.equal((await post(app.server, ful)).statusCode, 202)
    await waitFor(async () => (await app.sql`select api_close from fulfilments where id = ${ful.data.id}`)[0].api_close === 'done', 15_000, 'closed on FirstPromoter')
    await open('/admin/console/fulfilments')
    await page.fill('#fid', String(ful.data.id))
    await Promise.all([page.waitForURL(`**/fulfilments/${ful.data.id}`), page.click('form.search button')])
    const steps = await page.locator('ol.timeline .what').allTextContents()
    t.same(steps, [
      `Delivery received (event ${ful.event.id})`,
      'Answered 202: still pending: FirstPromoter asks again later',
      'Granted 1 free_months to cust:user_77',
      'Closed on FirstPromoter through its API'
    ])
    t.equal(fake.getPayout(ful.data.id)?.status, 'completed')
    await shot('07-timeline-202-granted-closed')
    noProblems(t, 'timeline')
  })

  t.test('pause grants: the banner, a fulfilment answered 202 and held back; resume: granted and closed', async (t) => {
    await open('/admin/console')
    t.match(await page.textContent('.pause-banner.running'), 'Grants are running.')
    // The Pause button asks first (data-confirm); the operator says yes.
    page.once('dialog', (d) => { d.accept().catch(() => {}) })
    await Promise.all([page.waitForURL('**/admin/console/?notice=paused*'), page.click('.pause-banner button:has-text("Pause grants")')])
    const banner = await page.textContent('.pause-banner.paused')
    t.match(banner, 'Grants are paused.')
    t.match(banner, /Paused by console session \S+ from 127\.0\.0\.1 since/, 'who paused it, and since when')
    const status = await app.server.inject({ method: 'GET', url: '/admin/grants/pause', headers: { authorization: `Bearer ${TOKEN}` } })
    t.match(status.json(), { all: true, pauses: [{ scope: 'all', paused_by: /^console session / }] }, 'the admin API sees the console\'s pause')

    const ful = fulfilmentPayload({ unit: 'points', amount: 40, custId: 'user_88' })
    fake.addPayout({ ...ful.data, status: 'pending' })
    t.equal((await post(app.server, ful)).statusCode, 202, 'delivered while paused: 202')
    await sleep(500)
    t.equal((await app.sql`select count(*)::int as n from ledger_entries where fulfilment_id = ${ful.data.id}`)[0].n, 0, 'not granted')
    await open('/admin/console')
    await shot('11-grants-paused-banner')
    await open(`/admin/console/fulfilments/${ful.data.id}`)
    t.match(await page.textContent('.pause-banner.paused'), 'Grants are paused.', 'the banner is on every page')
    t.match(await page.textContent('ol.timeline'), 'Answered 202')
    t.notMatch(await page.textContent('ol.timeline'), 'Granted')
    await shot('12-paused-fulfilment-202')

    await Promise.all([page.waitForURL('**/admin/console/?notice=resumed*'), page.click('.pause-banner button:has-text("Resume grants")')])
    t.match(await page.textContent('.pause-banner.running'), 'Grants are running.')
    await waitFor(async () => (await app.sql`select api_close from fulfilments where id = ${ful.data.id}`)[0].api_close === 'done', 15_000, 'granted and closed on FirstPromoter')
    t.equal(fake.closeCalls(ful.data.id).length, 1, 'closed once through the API')
    await open(`/admin/console/fulfilments/${ful.data.id}`)
    const steps = await page.locator('ol.timeline .what').allTextContents()
    t.same(steps, [
      `Delivery received (event ${ful.event.id})`,
      'Answered 202: still pending: FirstPromoter asks again later',
      'Granted 40 points to cust:user_88',
      'Closed on FirstPromoter through its API'
    ])
    await shot('13-resumed-granted-closed')
    noProblems(t, 'pause')
  })

  t.test('events: search by type and by id, with processing state', async (t) => {
    const lead = fixture('lead_signup.json')
    t.equal((await post(app.server, lead)).statusCode, 200)
    await waitFor(async () => (await app.sql`select state from webhook_events where event_id = ${String(lead.event.id)}`)[0]?.state === 'processed', 10_000, 'processed')
    await open('/admin/console/events')
    await page.selectOption('select[name="type"]', 'lead_signup')
    await Promise.all([page.waitForURL('**/events?type=lead_signup*'), page.click('form.search-grid button')])
    const types = await page.locator('table.events tbody tr td:nth-child(3)').allTextContents()
    t.same(types, ['lead_signup'], 'only that type')
    t.equal(await page.textContent('table.events tbody tr .badge'), 'processed')
    await page.fill('input[name="id"]', String(lead.event.id))
    await page.selectOption('select[name="type"]', '')
    await Promise.all([page.waitForURL('**/events?*id=*'), page.click('form.search-grid button')])
    t.equal(await page.locator('table.events tbody tr').count(), 1, 'by its id')
    await open('/admin/console/events')
    const stored = (await app.sql`select count(*)::int as n from webhook_events`)[0].n
    t.equal(await page.locator('table.events tbody tr').count(), stored, 'every event')
    await shot('08-events')
    noProblems(t, 'events')
  })

  t.test('the chart renders: a bar for each hour, the deliveries of this hour drawn', async (t) => {
    await open('/admin/console')
    for (const series of ['deliveries', 'grants', 'failures']) {
      const chart = page.locator(`svg.chart-${series}`)
      const box = await chart.boundingBox()
      t.ok(box && box.width > 200 && box.height > 40, `${series}: drawn at a readable size`)
      t.equal(await chart.locator('rect.bar').count(), 48, `${series}: 48 hours`)
    }
    const now = page.locator('svg.chart-deliveries rect.bar').last()
    t.ok(((await now.boundingBox())?.height ?? 0) > 20, 'this hour has a visible bar')
    t.match(await page.locator('.tile').first().textContent(), /events not yet processed/)
    await shot('09-overview-chart')
    noProblems(t, 'chart')
  })

  t.test('Bull Board opened with Basic auth in its URL requests its locale and shows translated text', async (t) => {
    const board = await browser.newPage()
    const requested: string[] = []
    board.on('request', (r) => requested.push(new URL(r.url()).pathname))
    // The board's page asks Google for a web font; this machine has no internet: answered here.
    await board.route(/^https:\/\//, (route) => route.abort())
    const url = new URL(`${origin}/admin/queues/`)
    url.username = 'admin'
    url.password = TOKEN
    await board.goto(`${url.href}queue/fp-grants?status=completed`)
    // Grant jobs are listed by what they grant.
    await board.waitForSelector('text=/grant \\d+: 10 credits/', { timeout: 10_000 })
    t.ok(requested.includes('/admin/queues/static/locales/en-US/messages.json'), 'the locale is requested')
    const text = await board.textContent('body')
    t.notMatch(text, /MENU\.QUEUES|QUEUE\.STATUS/, 'no raw translation key')
    await board.screenshot({ path: join(SHOTS, '10-bull-board.png'), fullPage: true })
    t.comment(`screenshot: ${join(SHOTS, '10-bull-board.png')}`)
    await board.close()
  })
}
