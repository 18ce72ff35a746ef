import t from 'tap'
import { MAX_DEPTH, NestingTooDeepError, REDACTED, maskUrl, maskUrlIn, maskedUrl, redactInPlace } from '../src/redact.js'
import { scrubRawBody } from '../src/scrub.js'

const secret = 'url-secret-0123456789abcdef'
const base = { secrets: [secret], paths: [] as string[][], personalData: 'keep' as const }

t.test('credentials, our URL and our secret are masked anywhere in the tree', async (t) => {
  const doc: any = {
    data: {
      promoter: { auth_token: 'tok', temp_password: 'pw', email: 'a@b.c' },
      promoters: [{ auth_token: 'tok2', temp_password: null }],
      campaign: { default_webhook_url: `https://hooks.example.com/webhooks/firstpromoter/${secret}?x=1` },
      note: `sent to /webhooks/firstpromoter/${secret}`
    }
  }
  redactInPlace(doc, base)
  t.equal(doc.data.promoter.auth_token, REDACTED)
  t.equal(doc.data.promoter.temp_password, REDACTED)
  t.equal(doc.data.promoter.email, 'a@b.c', 'personal data kept by default')
  t.equal(doc.data.promoters[0].auth_token, REDACTED)
  t.equal(doc.data.promoters[0].temp_password, null, 'null stays null')
  t.equal(doc.data.campaign.default_webhook_url, `https://hooks.example.com/${REDACTED}`)
  t.equal(doc.data.note, `sent to /webhooks/firstpromoter/${REDACTED}`)
  t.notMatch(JSON.stringify(doc), secret)
})

t.test('extra paths, with * for any key or index', async (t) => {
  const doc: any = { data: { promoter: { profile: { phone_number: '555', vat_id: 'X' } }, promotions: [{ promo_code: 'A' }, { promo_code: 'B' }, { promo_code: null }] } }
  redactInPlace(doc, { ...base, paths: [['data', 'promoter', 'profile', 'phone_number'], ['data', 'promotions', '*', 'promo_code'], ['data', 'missing', 'field']] })
  t.equal(doc.data.promoter.profile.phone_number, REDACTED)
  t.equal(doc.data.promoter.profile.vat_id, 'X')
  t.same(doc.data.promotions.map((p: any) => p.promo_code), [REDACTED, REDACTED, null])
})

t.test('personalData: drop masks emails, profiles and codes but keeps ids', async (t) => {
  const doc: any = { data: { id: 1, email: 'lead@x.com', uid: 'u1', promoter: { id: 2, cust_id: 'c2', email: 'p@x.com', profile: { first_name: 'A' }, note: 'n', w9_form_url: 'https://x' }, promotion: { promo_code: 'P', ref_id: 'r' } } }
  redactInPlace(doc, { ...base, personalData: 'drop' })
  t.equal(doc.data.email, REDACTED)
  t.equal(doc.data.promoter.email, REDACTED)
  t.equal(doc.data.promoter.profile, REDACTED)
  t.equal(doc.data.promoter.note, REDACTED)
  t.equal(doc.data.promoter.w9_form_url, REDACTED)
  t.equal(doc.data.promotion.promo_code, REDACTED)
  t.same([doc.data.id, doc.data.uid, doc.data.promoter.id, doc.data.promoter.cust_id, doc.data.promotion.ref_id], [1, 'u1', 2, 'c2', 'r'])
})

t.test('nesting deeper than the limit is refused', async (t) => {
  let deep: unknown = {}
  for (let i = 0; i < MAX_DEPTH + 2; i++) deep = { a: deep }
  t.throws(() => redactInPlace(deep, base), NestingTooDeepError)
  let ok: unknown = {}
  for (let i = 0; i < MAX_DEPTH - 1; i++) ok = [ok]
  t.doesNotThrow(() => redactInPlace(ok, base))
})

t.test('maskUrl and scrubRawBody', async (t) => {
  t.equal(maskUrl('not a url'), REDACTED)
  const raw = `{"auth_token": "abc\\"def", "temp_password":"pw","default_webhook_url":"https://h/${secret}", "x": "${secret}", "broken`
  const out = scrubRawBody(raw, [secret])
  t.notMatch(out, 'abc')
  t.notMatch(out, '"pw"')
  t.notMatch(out, secret)
  t.match(out, `"auth_token": "${REDACTED}"`)
  t.match(out, '"broken')
})

t.test('scrubRawBody keeps no credential in a body it cannot parse, whatever its spelling', async (t) => {
  const token = 'tok_9f8e7d6c5b4a'
  const cases: Array<[string, string, string]> = [
    ['escaped key name', `{"promoter": {"auth\\u005ftoken": "${token}", "id": 42`, token],
    ['escaped key, upper-case hex', `{"id": 42, "auth\\u005Ftoken":"${token}",`, token],
    ['numeric temp_password', '{"temp_password": 123456, "id": 42', '123456'],
    ['negative number', '{"temp_password":-99887766,"id": 42', '99887766'],
    ['single-quoted pseudo-JSON', `{'auth_token': '${token}', 'id': 42}`, token],
    ['single-quoted, escaped quote inside', `{'auth_token': 'it\\'s-${token}', 'id': 42}`, token],
    ['unquoted key', `{auth_token: ${token}, id: 42}`, token],
    ['object value', `{"auth_token": {"value": "${token}"}, "id": 42`, token],
    ['array value', `{"auth_token": ["${token}"], "id": 42`, token],
    ['value cut short', `{"id": 42, "auth_token": "${token}`, token],
    ['nothing after the key', '{"id": 42, "temp_password":', ''],
    ['no colon', `{"id": 42, "auth_token" "${token}"}`, token],
    ['key inside a broken string', `{"id": 42, "note": "a, "auth_token": "${token}"}`, token],
    ['key inside an unterminated single-quoted string', `{"id": 42, "note": 'x", "auth_token": "${token}"}`, token],
    ['upper case and a dash', `{"AUTH-TOKEN": "${token}", "id": 42`, token],
    ['form encoded', `id=42&auth_token=${token}&x=1`, token],
    ['percent-encoded key', `id=42&auth%5Ftoken=${token}`, token],
    ['object value cut short', `{"id": 42, "auth_token": {"value": "${token}", "more": [1`, token],
    ['unterminated string inside an object value', `{"id": 42, "auth_token": {"value": "${token}`, token],
    ['two separators', `{"id": 42, "auth_token": : "${token}"}`, token],
    ['braced escape', `{"id": 42, "auth\\u{5f}token": "${token}"}`, token],
    ['escaped url secret', `{"id": 42, "url": "https://h/${secret.slice(0, 3)}\\u00${secret.charCodeAt(3).toString(16)}${secret.slice(4)}"`, secret.slice(4)]
  ]
  for (const [name, raw, leaked] of cases) {
    const out = scrubRawBody(raw, [secret])
    if (leaked !== '') t.notMatch(out, leaked, `${name}: the credential is masked (${out})`)
    t.notMatch(out, secret, `${name}: no url secret`)
    if (!name.includes('broken') && !name.includes('unterminated') && !name.includes('no colon')) {
      t.match(out, REDACTED, `${name}: a mask stands where it was`)
    }
    t.match(out, '42', `${name}: what precedes the credential is kept (${out})`)
  }
  t.equal(scrubRawBody('{"id": 42, "auth_token": , "x": 1', []), '{"id": 42, "auth_token": , "x": 1', 'an empty value leaves nothing to mask')
  t.equal(scrubRawBody('{"id": 42, "note": "reset your password", "k": "\\u{110000}"', []), '{"id": 42, "note": "reset your password", "k": "\\u{110000}"', 'a value that only mentions a credential is kept')
  // What holds no credential is kept as sent, so a human can still read the body.
  const plain = '{"event": {"id": 42, "type": "lead_signup"}, "data": {"email": "a@b.c", "note": "it\'s fine"'
  t.equal(scrubRawBody(plain, [secret]), plain, 'a body without credentials is unchanged')
})

t.test('maskedUrl: the secret segment of the route, and the secrets anywhere else in a URL', async (t) => {
  const prefix = '/webhooks/firstpromoter'
  t.equal(maskedUrl(`${prefix}/${secret}`, prefix, [secret]), `${prefix}/${REDACTED}`)
  t.equal(maskedUrl(`${prefix}/anything-else?x=1`, prefix), `${prefix}/${REDACTED}?x=1`, 'whatever the segment holds')
  t.equal(maskedUrl(`${prefix}/${secret}/more#frag`, prefix), `${prefix}/${REDACTED}/more#frag`)
  t.equal(maskedUrl(`/other/${secret}?token=${secret}`, prefix, [secret]), `/other/${REDACTED}?token=${REDACTED}`, 'outside the route too')
  t.equal(maskedUrl(prefix, prefix), prefix, 'the prefix alone has no secret')
})

t.test('maskUrlIn: a message quoting the URL has it masked', async (t) => {
  const url = `/webhooks/firstpromoter/${secret}%zz`
  const text = maskUrlIn(`'${url}' is not a valid url component (${secret})`, url, '/webhooks/firstpromoter', [secret])
  t.equal(text, `'/webhooks/firstpromoter/${REDACTED}' is not a valid url component (${REDACTED})`)
})
