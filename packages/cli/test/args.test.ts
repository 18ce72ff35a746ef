import t from 'tap'
import { parseDuration } from '../src/duration.js'
import { main } from '../src/main.js'
import { EVENT_TYPES, examplePayload } from '../src/payloads/index.js'
import { parseSet, parseValue, setPath } from '../src/set-path.js'
import { buildPayload } from '../src/simulate.js'
import { V1_EVENT_TYPES } from 'fastify-firstpromoter'

t.test('durations: d, h, m, s only', async (t) => {
  t.equal(parseDuration('30d'), 30 * 86_400_000)
  t.equal(parseDuration('12h'), 12 * 3_600_000)
  t.equal(parseDuration('90m'), 90 * 60_000)
  t.equal(parseDuration('45s'), 45_000)
  for (const bad of ['5x', '', '30', '1.5h', '-1d', '0s', ' 3d', '3d ', '3D', '1w']) {
    t.throws(() => parseDuration(bad), /expected a whole number followed by d, h, m or s \(30d, 12h, 90m, 45s\)/, JSON.stringify(bad))
  }
})

t.test('--set: JSON when it parses, else a string', async (t) => {
  t.same(parseSet('data.amount=5'), ['data.amount', 5])
  t.same(parseSet('data.unit=credits'), ['data.unit', 'credits'])
  t.same(parseSet('data.promoter.cust_id="42"'), ['data.promoter.cust_id', '42'])
  t.same(parseSet('data.note=a=b'), ['data.note', 'a=b'], 'the first = splits')
  t.same(parseSet('data.campaign=null'), ['data.campaign', null])
  t.same(parseSet('data.x={"a":[1]}'), ['data.x', { a: [1] }])
  t.equal(parseValue(''), '')
  t.throws(() => parseSet('data.amount'), /expects path=value/)
  t.throws(() => parseSet('data..amount=1'), /dot-separated keys/)
  t.throws(() => parseSet('=1'), /dot-separated keys/)
  t.throws(() => parseSet('data.__proto__.polluted=1'), /may not contain "__proto__"/)
  t.equal(({} as Record<string, unknown>).polluted, undefined)
})

t.test('setPath creates objects, indexes arrays, refuses to walk through scalars', async (t) => {
  const target: Record<string, any> = { data: { promoter: { promotions: [{ id: 1 }] }, amount: 3 } }
  setPath(target, 'data.promoter.promotions.0.id', 9)
  setPath(target, 'data.extra.deep', true)
  setPath(target, 'event.id', 5)
  t.same(target, {
    data: { promoter: { promotions: [{ id: 9 }] }, amount: 3, extra: { deep: true } },
    event: { id: 5 }
  })
  t.throws(() => setPath(target, 'data.amount.x', 1), /data.amount is a number, not an object/)
})

t.test('payloads: every v1 type, fresh ids, sets applied last', async (t) => {
  t.same([...EVENT_TYPES], [...V1_EVENT_TYPES], 'the plugin\'s list of v1 types')
  for (const type of EVENT_TYPES) t.equal(examplePayload(type).event.type, type)
  const a = buildPayload('fulfilment_pending')
  const b = buildPayload('fulfilment_pending')
  t.not(a.event.id, b.event.id)
  t.not(a.data.id, b.data.id)
  t.equal(a.data.unit, 'free_months', 'the documented example')
  const set = buildPayload('fulfilment_pending', [['data.id', 77], ['event.id', 88]])
  t.equal(set.data.id, 77, 'a set data.id wins over the fresh one')
  t.equal(set.event.id, 88)
  const lead = buildPayload('lead_signup')
  t.equal(lead.data.id, examplePayload('lead_signup').data.id, 'only fulfilments get a fresh data.id')
  t.not(examplePayload('fulfilment_pending'), examplePayload('fulfilment_pending'), 'a copy each time')
})

t.test('main: help, unknown commands and bad input, without a process', async (t) => {
  const run = async (...argv: string[]) => runWith({}, ...argv)
  const runWith = async (env: Record<string, string>, ...argv: string[]) => {
    const out: string[] = []
    const err: string[] = []
    const code = await main(argv, env, { out: (s) => { out.push(s) }, err: (s) => { err.push(s) } })
    return { code, out: out.join('\n'), err: err.join('\n') }
  }
  t.match(await run('help', 'prune'), { code: 0, out: /^Usage: firstpromoter-webhooks prune --older-than/ })
  t.match(await run('replay', '-h'), { code: 0, out: /inbox row id/ })
  t.match(await run('migrate', 'extra'), { code: 1, err: /^firstpromoter-webhooks migrate: Unexpected argument 'extra'/ })
  t.match(await run('prune', '--older-than'), { code: 1, err: /argument missing \(see --help\)$/ })
  t.match(await run('toString'), { code: 1, err: /unknown command "toString"/ })
  t.match(await run(), { code: 1, err: /^Usage: firstpromoter-webhooks <command>/ })
  t.match(await run('replay', 'abc'), { code: 1, err: /<event-id> must be a positive integer, got "abc"/ })
  t.match(await run('replay'), { code: 1, err: /expected exactly one <event-id>/ })
  t.match(await run('prune'), { code: 1, err: /--older-than is required/ })
  t.match(await run('simulate'), { code: 1, err: /--url is required/ })
  t.match(await run('simulate', '--url', 'http://127.0.0.1:1/x', '--count', 'many'), { code: 1, err: /--count must be a whole number >= 1, got "many"/ })
  t.match(await run('simulate', '--url', 'http://127.0.0.1:1/x', '--set', 'nope'), { code: 1, err: /--set expects path=value/ })
  t.match(await run('simulate', '--url', 'http://127.0.0.1:1/x', '--type', 'lead_exploded'), { code: 1, err: /unknown event type "lead_exploded"/ })
  t.match(await run('simulate', '--url', 'http://127.0.0.1:1/x', '--timeout', '0'), { code: 1, err: /--timeout must be a whole number >= 1, got "0"/ })
  t.match(await runWith({ DATABASE_URL: 'mysql://db/x' }, 'prune', '--older-than', '1d'),
    { code: 1, err: /^firstpromoter-webhooks prune: Invalid configuration: DATABASE_URL must match pattern/ })
  t.match(await runWith({ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/x' }, 'prune', '--older-than', '1d'),
    { code: 1, err: /^firstpromoter-webhooks prune: Cannot reach Postgres at DATABASE_URL=postgres:\/\/postgres@127.0.0.1:1\/x/ })
})
