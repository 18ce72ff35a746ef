import type { InjectOptions } from 'fastify'

interface Injector { inject: (opts: InjectOptions) => Promise<any> }

/**
 * An operator at the console, over `inject`: keeps the cookies each answer sets, and posts forms
 * with the CSRF token of the last page.
 */
export function consoleSession (server: Injector, base = '/admin/console') {
  const jar = new Map<string, string>()
  let csrf = ''
  const request = async (opts: InjectOptions) => {
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ')
    const res = await server.inject({ ...opts, headers: { ...(cookie ? { cookie } : {}), ...opts.headers } })
    for (const c of ([] as string[]).concat(res.headers['set-cookie'] ?? [])) {
      const pair = c.split(';')[0]!
      const name = pair.slice(0, pair.indexOf('='))
      const value = pair.slice(pair.indexOf('=') + 1)
      if (value === '') jar.delete(name)
      else jar.set(name, value)
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body)
    if (token) csrf = token[1]!
    return res
  }
  const post = (path: string, form: Record<string, string> = {}) => request({
    method: 'POST',
    url: `${base}${path}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ _csrf: csrf, ...form }).toString()
  })
  return {
    jar,
    get: (path: string) => request({ method: 'GET', url: `${base}${path}` }),
    post,
    async login (token: string) {
      await request({ method: 'GET', url: `${base}/` })
      return post('/login', { token })
    }
  }
}
