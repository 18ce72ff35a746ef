import Fastify from 'fastify'
import t from 'tap'
import { fastifyConsole } from '../src/index.js'
import { TOKEN, buildConsole, createBrowser } from './helper.js'

const PROTECTED_PAGES = ['/admin/console/fulfilments', '/admin/console/fulfilments/1', '/admin/console/quarantine', '/admin/console/events', '/admin/console/events/1']

t.test('every page is served with a strict Content-Security-Policy and loads nothing from outside', async (t) => {
  const { browser } = await buildConsole(t)
  const login = await browser.get('/admin/console')
  t.equal(login.statusCode, 200)
  t.match(login.headers['content-type'], /^text\/html/)
  const csp = String(login.headers['content-security-policy'])
  t.equal(csp, "default-src 'none';script-src 'self';style-src 'self';img-src 'self';connect-src 'self';form-action 'self';frame-ancestors 'none';base-uri 'none'")
  t.notMatch(csp, /unsafe-inline|unsafe-eval|\*/, 'no inline script or style, no wildcard')
  t.equal(login.headers['x-content-type-options'], 'nosniff')
  t.equal(login.headers['cache-control'], 'no-store')

  await browser.login()
  for (const url of ['/admin/console', ...PROTECTED_PAGES.filter((u) => !u.endsWith('/1'))]) {
    const page = await browser.get(url)
    t.equal(page.statusCode, 200, url)
    t.equal(page.headers['content-security-policy'], csp, `${url}: the same policy`)
    t.notMatch(page.body, /(src|href|action)="(https?:)?\/\//, `${url}: no asset or link to another origin`)
    t.notMatch(page.body, /<script(?![^>]*\bsrc=)/, `${url}: no inline script`)
    t.notMatch(page.body, /\sstyle=|<style/, `${url}: no inline style`)
  }
  const css = await browser.get('/admin/console/assets/console.css')
  t.equal(css.statusCode, 200)
  t.match(css.headers['content-type'], /^text\/css/)
  t.notMatch(css.body, /@import|url\(\s*["']?https?:/, 'the stylesheet pulls nothing in (no web fonts)')
  const js = await browser.get('/admin/console/assets/console.js')
  t.equal(js.statusCode, 200)
  t.match(js.headers['content-type'], /javascript/)
})

t.test('without a login every page leads to the login form and every action is refused', async (t) => {
  const { browser, calls } = await buildConsole(t)
  for (const url of PROTECTED_PAGES) {
    const res = await browser.get(url)
    t.equal(res.statusCode, 303, url)
    t.equal(res.headers.location, '/admin/console/')
  }
  const login = await browser.get('/admin/console')
  t.match(login.body, /name="token" type="password"/, 'the root shows the login form')
  t.notMatch(login.body, /Needs a human/)
  for (const url of ['/admin/console/fulfilments/1/retry', '/admin/console/fulfilments/1/retry-close', '/admin/console/quarantine/1/resubmit', '/admin/console/logout']) {
    const res = await browser.post(url)
    t.equal(res.statusCode, 401, url)
  }
  t.same(calls, [], 'no action ran')
})

t.test('a wrong token is refused; the right one sets a Secure, HttpOnly, SameSite=Strict session cookie that is not the token', async (t) => {
  const { browser } = await buildConsole(t)
  const wrong = await browser.login(`${TOKEN}x`)
  t.equal(wrong.statusCode, 401)
  t.match(wrong.body, /That is not the admin token/)
  t.notOk(browser.jar.has('fp_console'), 'no session')
  t.notMatch(wrong.body, TOKEN)

  const right = await browser.login()
  t.equal(right.statusCode, 303)
  t.equal(right.headers.location, '/admin/console/')
  const cookie = ([] as string[]).concat(right.headers['set-cookie']).find((c) => c.startsWith('fp_console='))!
  t.ok(cookie, 'a session cookie')
  t.match(cookie, /; Path=\/admin\/console(;|$)/)
  t.match(cookie, /; HttpOnly(;|$)/)
  t.match(cookie, /; Secure(;|$)/)
  t.match(cookie, /; SameSite=Strict(;|$)/)
  t.match(cookie, /; Max-Age=28800(;|$)/, 'eight hours')
  t.notMatch(decodeURIComponent(cookie), TOKEN, 'the session is not the token')
  const overview = await browser.get('/admin/console')
  t.equal(overview.statusCode, 200)
  t.match(overview.body, /Needs a human/)

  // A forged or altered session is no session.
  const session = browser.jar.get('fp_console')!
  browser.jar.set('fp_console', session.replace(/^./, (c) => (c === 'a' ? 'b' : 'a')))
  t.match((await browser.get('/admin/console')).body, /name="token"/, 'an altered cookie shows the login form')
  browser.jar.set('fp_console', session)
  await browser.get('/admin/console') // this session's CSRF token again

  const out = await browser.post('/admin/console/logout')
  t.equal(out.statusCode, 303)
  t.match(([] as string[]).concat(out.headers['set-cookie']).join('\n'), /fp_console=;.*Expires=Thu, 01 Jan 1970/)
  const after = await browser.get('/admin/console/?notice=logged-out')
  t.match(after.body, /Logged out/)
  t.match(after.body, /name="token"/)
  t.equal((await browser.get('/admin/console/events')).statusCode, 303, 'logged out')
})

t.test('wrong tokens spend the address\'s login budget; once spent even the right one is refused', async (t) => {
  const { browser } = await buildConsole(t)
  for (let i = 0; i < 10; i++) t.equal((await browser.login('wrong-token-0123456789')).statusCode, 401)
  const limited = await browser.login()
  t.equal(limited.statusCode, 429)
  t.ok(Number(limited.headers['retry-after']) > 0)
  t.notOk(browser.jar.has('fp_console'))
})

t.test('CSRF: every form that changes state must carry the token of this session', async (t) => {
  const { app, browser, calls } = await buildConsole(t)
  t.equal((await browser.post('/admin/console/login', { token: TOKEN, _csrf: null })).statusCode, 403, 'login needs it too')
  await browser.login()
  await browser.get('/admin/console')

  const missing = await browser.post('/admin/console/fulfilments/5/retry', { _csrf: null })
  t.equal(missing.statusCode, 403)
  t.match(missing.body, /CSRF check failed/)
  t.equal((await browser.post('/admin/console/fulfilments/5/retry', { _csrf: 'forged' })).statusCode, 403)

  // A token of another login is worth nothing here.
  const other = createBrowser(app)
  await other.login()
  await other.get('/admin/console')
  t.equal((await browser.post('/admin/console/fulfilments/5/retry', { _csrf: other.csrf })).statusCode, 403, "another session's token")
  t.equal((await browser.post('/admin/console/quarantine/5/resubmit', { _csrf: null, mode: 'as-is' })).statusCode, 403)
  t.equal((await browser.post('/admin/console/logout', { _csrf: null })).statusCode, 403)
  t.same(calls, [], 'nothing ran')

  const ok = await browser.post('/admin/console/fulfilments/5/retry')
  t.equal(ok.statusCode, 303)
  t.equal(ok.headers.location, '/admin/console/?notice=retried&id=5')
  t.same(calls, [['retryFulfilment', 5]])
})

t.test('bad options are refused at registration', async (t) => {
  const actions = { retryFulfilment: async () => null, retryClose: async () => null, resubmit: async () => null }
  const bad = [
    [{ token: TOKEN, actions }, /`db` is required/],
    [{ db: {}, token: 'short', actions }, /`token` must be a string of at least 16/],
    [{ db: {}, token: TOKEN, actions: {} }, /`actions` must implement/],
    [{ db: {}, token: TOKEN, actions, sessionSecret: 'too short' }, /at least 32 bytes/]
  ] as const
  for (const [options, message] of bad) {
    const app = Fastify()
    await t.rejects(async () => { await app.register(fastifyConsole, options as never); await app.ready() }, { name: 'TypeError', message })
    await app.close()
  }
})
