import { createIds, fulfilmentEvent, ordinaryEvent, ORDINARY_TYPES, type Json } from './payloads.js'
import type { Rng } from './random.js'
import { OLD_SECRET, SECRET, WEBHOOK, WEBHOOK_PREFIX } from './stack.js'

/** What a hostile case may be answered with: never a 5xx, whatever it is. */
export type Expect = 'reject' | 'accept' | 'either'

export interface HostileCase {
  category: string
  name: string
  url: string
  headers: Record<string, string>
  payload: string | Buffer
  expect: Expect
}

const JSON_TYPE = { 'content-type': 'application/json' }
/** Placeholders replaced by raw JSON tokens that `JSON.stringify` cannot produce (1e309, 2^63…). */
const raw = (token: string) => `@@RAW:${token}@@`
const serialize = (body: unknown) => JSON.stringify(body).replace(/"@@RAW:(.*?)@@"/g, '$1')

/** Whether `text` is JSON at all (a mutation may keep it valid). */
function parses (text: string): boolean {
  try { JSON.parse(text); return true } catch { return false }
}

/** Values of the wrong type, or out of range, for any field. */
const WRONG_VALUES: Array<[string, unknown]> = [
  ['null', null], ['true', true], ['false', false], ['empty string', ''], ['object', { a: 1 }], ['array', [1]],
  ['negative', -1], ['fraction', 1.5], ['1e309', raw('1e309')], ['-1e309', raw('-1e309')], ['2^63', raw('9223372036854775808')],
  ['2^53', raw('9007199254740992')], ['1e-400', raw('1e-400')], ['"NaN"', 'NaN'], ['"Infinity"', 'Infinity'], ['"12a"', '12a'],
  ['" 1"', ' 1'], ['"1 "', '1 '], ['"0x10"', '0x10'], ['"1e3"', '1e3'], ['"-5"', '-5'], ['"1.5"', '1.5'],
  ['19 digits', '9223372036854775808'], ['18 digits', '123456789012345678'], ['16 digits', '9007199254740993'],
  ['emoji', '🎁'], ['NUL', '\u0000'], ['lone surrogate', '\ud800'], ['RTL', '\u202e123']
]

/** Strings that are valid JSON but odd: data an ordinary event may carry and must be accepted with. */
const ODD_STRINGS: Array<[string, string]> = [
  ['lone high surrogate', 'a\ud83dz'], ['lone low surrogate', '\udc00'], ['reversed pair', '\ude00\ud83d'],
  ['NUL', 'a\u0000b'], ['only NUL', '\u0000'], ['C0 controls', '\u0001\u0002\u001f'], ['DEL and C1', '\u007f\u0085\u009f'],
  ['RTL override', '\u202egnp.exe'], ['BOM', '\ufeffx'], ['emoji', '🎁👩‍👩‍👧‍👦🏳️‍🌈'], ['combining', 'e\u0301\u0301\u0301\u0301'],
  ['noncharacters', '\uffff\ufffe'], ['astral max', '\u{10ffff}'], ['zero width', '\u200b\u200d\u2060'],
  ['line separators', '\u2028\u2029'], ['long', 'x'.repeat(5000)], ['backslashes', '\\\\u0000\\'], ['quotes', '"\'`']
]

/** Builds the scenario's cases; every accepted one carries a fresh event id. */
export function generateCases (rng: Rng, bodyLimit: number): HostileCase[] {
  const nextId = createIds(rng.int(1, 1_000_000) * 10_000)
  const cases: HostileCase[] = []
  const add = (
    category: string,
    name: string,
    payload: string | Buffer,
    expect: Expect,
    headers: Record<string, string> = JSON_TYPE,
    url = WEBHOOK
  ) => {
    cases.push({ category, name, url, headers, payload, expect })
  }
  const ordinary = (): Json => ordinaryEvent(rng.pick(ORDINARY_TYPES), nextId)
  const fulfilment = (): Json => fulfilmentEvent(nextId, { unit: rng.pick(['free_months', 'credits', 'points']), amount: rng.int(1, 9) })
  const any = (): Json => (rng.chance(0.3) ? fulfilment() : ordinary())

  // 1. Malformed JSON: valid deliveries mutated at random, and things that are not JSON at all.
  for (let i = 0; i < 160; i++) {
    const text = serialize(any())
    const at = rng.int(1, text.length - 1)
    let mutated: string
    let name: string
    switch (rng.int(0, 6)) {
      case 0: mutated = text.slice(0, at); name = `truncated at ${at}`; break
      case 1: mutated = text.slice(0, at) + rng.pick(['{', '}', '[', ']', ',', ':', '"', '\\', 'x', ' ']) + text.slice(at); name = `char inserted at ${at}`; break
      case 2: mutated = text.slice(0, at) + text.slice(at + 1); name = `char deleted at ${at}`; break
      case 3: mutated = text.replace(/"/g, "'"); name = 'single quotes'; break
      case 4: mutated = text.replace(/}$/, ',}'); name = 'trailing comma'; break
      case 5: mutated = `/* comment */${text}`; name = 'comment'; break
      default: mutated = text.replace(/:(\d+)/, ': NaN'); name = 'NaN literal'
    }
    add('malformed JSON', name, mutated, parses(mutated) ? 'either' : 'reject')
  }
  for (const [name, text] of [['empty', ''], ['spaces', '   '], ['null', 'null'], ['string', '"x"'], ['number', '42'], ['array', '[]'],
    ['true', 'true'], ['random bytes', 'ÿþ\u0000\u0001garbage'], ['BOM only', '\ufeff'], ['nested garbage', '{{{{']] as const) {
    add('malformed JSON', name, text, 'reject')
  }
  add('malformed JSON', 'BOM before a valid body', `\ufeff${serialize(ordinary())}`, 'either')
  add('malformed JSON', 'raw control character inside a string', serialize(ordinary()).replace(/"email":"/, '"email":"\u0001'), 'either')
  {
    const body = ordinary()
    body.data.note = 'MARK'
    const bytes = Buffer.from(serialize(body))
    const i = bytes.indexOf('MARK')
    bytes[i] = 0xff
    bytes[i + 1] = 0xc3
    add('malformed JSON', 'raw 0xff 0xc3 bytes inside a string', bytes, 'either')
  }

  // 2. Content types: JSON sent with the wrong one, or none.
  const wrongTypes = ['text/plain', 'application/xml', 'text/html', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded',
    'application/octet-stream', 'image/png', 'application/javascript', 'text/json']
  const oddTypes = ['application/json; charset=utf-8', 'application/json;charset=UTF-8', 'APPLICATION/JSON', 'Application/Json',
    'application/json; charset=latin1', 'application/json ; charset=utf-8', 'application/vnd.api+json', 'application/json-patch+json',
    'application/jsonx', 'application/json, text/plain', ' application/json', 'application/json; foo="bar"', '*/*', 'application/*']
  for (let i = 0; i < 110; i++) {
    const text = serialize(any())
    const r = rng.int(0, 3)
    const ct = r === 1 ? rng.pick(wrongTypes) : rng.pick(oddTypes)
    if (r === 0) add('content type', 'none', text, 'reject', {})
    else add('content type', ct, text, r === 1 ? 'reject' : 'either', { 'content-type': ct })
  }
  add('content type', 'form-encoded credentials', 'auth_token=abc&event=1', 'reject', { 'content-type': 'application/x-www-form-urlencoded' })

  // 3. Bodies over the limit (and one just under it).
  for (let i = 0; i < 30; i++) {
    const body = any()
    body.data.pad = 'x'.repeat(rng.int(bodyLimit + 1, bodyLimit * 4))
    add('huge body', `${body.data.pad.length} bytes of padding`, serialize(body), 'reject')
  }
  {
    const body = ordinary()
    body.data.pad = ''
    body.data.pad = 'y'.repeat(bodyLimit - Buffer.byteLength(serialize(body)) - 10)
    add('huge body', 'just under the limit', serialize(body), 'accept')
    const wide = ordinary()
    for (let k = 0; Buffer.byteLength(serialize(wide)) < bodyLimit - 200; k++) wide.data[`k${k}`] = k
    add('huge body', 'thousands of keys under the limit', serialize(wide), 'accept')
  }

  // 4. Deep nesting, in data and in the envelope.
  for (let i = 0; i < 70; i++) {
    const depth = rng.chance(0.3) ? rng.int(5, 40) : rng.int(66, 20_000)
    const array = rng.chance(0.5)
    const deep = array ? `${'['.repeat(depth)}1${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`
    const body = any()
    const where = rng.pick(['data', 'event'])
    body[where].deep = raw('DEEP')
    const text = serialize(body).replace('@@RAW:DEEP@@', deep).replace('"DEEP"', deep)
    const tooBig = Buffer.byteLength(text) > bodyLimit
    add('deep nesting', `${array ? 'arrays' : 'objects'} ${depth} deep in ${where}`, text, tooBig || depth > 60 ? 'reject' : 'either')
  }

  // 5. Prototype keys.
  const protoKeys = ['"__proto__"', '"\\u005f_proto__"', '"__pro\\u0074o__"']
  for (let i = 0; i < 80; i++) {
    const body = any()
    const where = rng.pick(['top', 'event', 'data', 'data.promoter', 'nested array'])
    const r = rng.int(0, 3)
    const key = r === 0 ? rng.pick(protoKeys) : r === 1 ? '"constructor"' : r === 2 ? '"prototype"' : '"constructor"'
    const value = r === 3 ? '{"prototype":{"polluted":true}}' : r === 0 ? '{"polluted":true}' : rng.pick(['{"polluted":true}', '"x"', '1'])
    let text = serialize(body)
    const inject = `${key}:${value},`
    if (where === 'top') text = text.replace(/^\{/, `{${inject}`)
    else if (where === 'event') text = text.replace('"event":{', `"event":{${inject}`)
    else if (where === 'data') text = text.replace('"data":{', `"data":{${inject}`)
    else if (where === 'data.promoter' && text.includes('"promoter":{')) text = text.replace('"promoter":{', `"promoter":{${inject}`)
    else text = text.replace('"data":{', `"data":{"list":[{"ok":1},{${inject}"z":0}],`)
    const proto = r === 0
    const constructorPrototype = r === 3 || (key === '"constructor"' && value.startsWith('{"prototype"'))
    add('prototype keys', `${key}:${value.slice(0, 20)} in ${where}`, text, proto || constructorPrototype ? 'reject' : 'either')
  }

  // 6. Every field of the envelope, wrong.
  for (let i = 0; i < 230; i++) {
    const body = ordinary()
    const field = rng.pick(['event', 'event.id', 'event.id', 'event.type', 'event.type', 'event.created_at', 'data', 'data', 'root'])
    const [label, value] = rng.pick(WRONG_VALUES)
    let expect: Expect = 'reject'
    switch (field) {
      case 'root':
        add('envelope', `root is ${label}`, serialize(value), 'reject')
        continue
      case 'event':
        body.event = value
        break
      case 'data':
        body.data = value
        if (label === 'object') expect = 'either'
        break
      case 'event.id':
        body.event.id = value
        // Event ids are kept as text: up to 18 digits is fine. 1e-400 parses as 0, a valid id.
        if (label === '18 digits' || label === '16 digits') { body.event.id = String(nextId()).padStart(18, '9'); expect = 'either' }
        if (label === '1e-400') expect = 'either'
        break
      case 'event.type':
        body.event.type = value
        if (typeof value === 'string' && value.length >= 1) expect = 'either' // any 1–100 char type is stored, then ignored
        break
      default:
        body.event.created_at = value
        expect = 'accept' // not relied on: any value is stored, without a time when it is not one
    }
    add('envelope', `${field} = ${label}`, serialize(body), expect)
  }
  for (const [label, mutate, expect] of [
    ['no event', (b: Json) => { delete b.event }, 'reject'], ['no data', (b: Json) => { delete b.data }, 'reject'],
    ['no event.id', (b: Json) => { delete b.event.id }, 'reject'], ['no event.type', (b: Json) => { delete b.event.type }, 'reject'],
    ['event.type 101 chars', (b: Json) => { b.event.type = 't'.repeat(101) }, 'reject'], ['event.type 100 chars', (b: Json) => { b.event.type = 't'.repeat(100) }, 'accept'],
    ['unknown event type', (b: Json) => { b.event.type = 'payout_created' }, 'accept'], ['data empty', (b: Json) => { b.data = {} }, 'accept'],
    ['event.id 0', (b: Json) => { b.event.id = 0 }, 'either'], ['event.id max safe', (b: Json) => { b.event.id = Number.MAX_SAFE_INTEGER }, 'either']
  ] as const) {
    const body = ordinary()
    mutate(body)
    add('envelope', label, serialize(body), expect)
  }

  // 7. Every field the grant relies on, wrong.
  const fields = ['id', 'amount', 'unit', 'promoter', 'promoter.id', 'promoter.cust_id', 'promoter.email']
  for (let i = 0; i < 260; i++) {
    const body = fulfilment()
    const field = rng.pick(fields)
    const [label, value] = rng.pick(WRONG_VALUES)
    const d = body.data
    let expect: Expect = 'reject'
    switch (field) {
      // 1e-400 parses as 0: a valid id or amount. Ids longer than 15 digits cannot be kept exactly: refused.
      case 'id': d.id = value; if (label === '1e-400') expect = 'either'; break
      case 'amount': d.amount = value; if (label === '1e-400') expect = 'either'; break
      case 'unit': d.unit = value; if (typeof value === 'string' && value !== '') expect = 'either'; break
      case 'promoter': d.promoter = value; break
      case 'promoter.id': d.promoter.id = value; if (label === '1e-400') expect = 'either'; break
      case 'promoter.cust_id': d.promoter.cust_id = value; if (value === null || typeof value === 'string') expect = 'either'; break
      default: d.promoter.email = value; if (value === null || typeof value === 'string') expect = 'either'
    }
    add('fulfilment data', `data.${field} = ${label}`, serialize(body), expect)
  }
  for (const [label, mutate, expect] of [
    ['no id', (d: Json) => { delete d.id }, 'reject'], ['no amount', (d: Json) => { delete d.amount }, 'reject'], ['no unit', (d: Json) => { delete d.unit }, 'reject'],
    ['no promoter', (d: Json) => { delete d.promoter }, 'reject'], ['promoter without id', (d: Json) => { delete d.promoter.id }, 'reject'],
    ['unit 101 chars', (d: Json) => { d.unit = 'u'.repeat(101) }, 'reject'], ['unit 100 chars', (d: Json) => { d.unit = 'u'.repeat(100) }, 'accept'],
    ['cust_id 256 chars', (d: Json) => { d.promoter.cust_id = 'c'.repeat(256) }, 'reject'], ['cust_id 255 chars', (d: Json) => { d.promoter.cust_id = 'c'.repeat(255) }, 'accept'],
    ['amount 0', (d: Json) => { d.amount = 0 }, 'accept'], ['amount "007"', (d: Json) => { d.amount = '007' }, 'accept'],
    ['amount max safe', (d: Json) => { d.amount = Number.MAX_SAFE_INTEGER }, 'accept'], ['amount 15 digits', (d: Json) => { d.amount = '999999999999999' }, 'accept'],
    ['amount 16 digits', (d: Json) => { d.amount = '9999999999999999' }, 'reject'], ['string ids', (d: Json) => { d.id = String(d.id); d.promoter.id = String(d.promoter.id) }, 'accept']
  ] as const) {
    const body = fulfilment()
    mutate(body.data)
    add('fulfilment data', label, serialize(body), expect)
  }

  // 8. Odd unicode in strings and keys of ordinary events (accepted by design), in the type, in a fulfilment.
  for (let i = 0; i < 150; i++) {
    const [label, s] = rng.pick(ODD_STRINGS)
    const r = rng.int(0, 4)
    if (r === 4) {
      const body = fulfilment()
      const where = rng.pick(['unit', 'email', 'cust_id'])
      if (where === 'unit') body.data.unit = s.slice(0, 100)
      else if (where === 'email') body.data.promoter.email = s
      else body.data.promoter.cust_id = s.slice(0, 255)
      add('odd unicode', `${label} in fulfilment ${where}`, serialize(body), 'either')
      continue
    }
    const body = ordinary()
    if (r === 0) body.data.email = s
    else if (r === 1) body.data[`key${s}`] = 'value'
    else if (r === 2) body.event.type = `${s}`.slice(0, 100) || 'x'
    else body.data.nested = { list: [s, { [s]: s }] }
    add('odd unicode', `${label} in ${['a value', 'a key', 'event.type', 'a nested value'][r]}`, serialize(body), 'either')
  }

  // 9. Valid bodies, wrong or near-miss secrets (and the right ones in odd spellings).
  const swapCase = (s: string) => [...s].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('')
  const nearMisses: Array<[string, string, Expect]> = [
    ['upper case', SECRET.toUpperCase(), 'reject'], ['lower case', SECRET.toLowerCase(), 'reject'], ['swapped case', swapCase(SECRET), 'reject'],
    ['both secrets', `${SECRET},${OLD_SECRET}`, 'reject'], ['doubled', SECRET + SECRET, 'reject'], ['empty', '', 'reject'],
    ['trailing space', `${SECRET}%20`, 'reject'], ['NUL suffix', `${SECRET}%00`, 'reject'], ['lookalike', encodeURIComponent(SECRET.replace('e', '\u0435')), 'reject'],
    ['old secret', OLD_SECRET, 'accept'], ['current secret', SECRET, 'accept'], ['percent-encoded first char', `%${SECRET.charCodeAt(0).toString(16)}${SECRET.slice(1)}`, 'either'],
    ['query string', `${SECRET}?x=1`, 'either'], ['trailing slash', `${SECRET}/`, 'reject'], ['double slash', `/${SECRET}`, 'reject'],
    ['dot segment', `../firstpromoter/${SECRET}`, 'either'], ['long', 'a'.repeat(4000), 'reject'], ['one char', 'a', 'reject']
  ]
  for (let i = 0; i < 100; i++) {
    let secret: string
    let label: string
    let expect: Expect = 'reject'
    const pos = rng.int(0, SECRET.length - 1)
    switch (rng.int(0, 4)) {
      case 0:
        secret = SECRET.slice(0, pos) + (SECRET[pos] === 'a' ? 'b' : 'a') + SECRET.slice(pos + 1)
        label = `one char off at ${pos}`
        break
      case 1:
        secret = SECRET.slice(0, rng.int(1, SECRET.length - 1))
        label = `prefix of ${secret.length}`
        break
      case 2:
        secret = SECRET + rng.string(rng.int(1, 5))
        label = `suffix +${secret.length - SECRET.length}`
        break
      case 3:
        secret = rng.string(rng.int(1, 80), 'abcdefghijklmnopqrstuvwxyzABCDEF0123456789-_.~')
        label = `random ${secret.length} chars`
        break
      default: {
        const miss = rng.pick(nearMisses)
        secret = miss[1]
        label = miss[0]
        expect = miss[2]
      }
    }
    add('secret', label, serialize(any()), expect, JSON_TYPE, `${WEBHOOK_PREFIX}/${secret}`)
  }
  add('secret', 'no secret segment', serialize(ordinary()), 'reject', JSON_TYPE, WEBHOOK_PREFIX)
  add('secret', 'prefix only with slash', serialize(ordinary()), 'reject', JSON_TYPE, `${WEBHOOK_PREFIX}/`)

  return cases
}
