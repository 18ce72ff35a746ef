import t from 'tap'
import { MAX_DEPTH, NestingTooDeepError, REDACTED, maskUrl, redactInPlace, scrubRawBody } from '../src/redact.js'

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
