import { readFileSync, readdirSync } from 'node:fs'
import t from 'tap'
import type { TSchema } from '@sinclair/typebox'
import { TypeCompiler, type ValueError } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import {
  FpIdSchema,
  FulfilmentPendingDataSchema,
  FulfilmentSchema,
  V1_EVENT_TYPES,
  V1EnvelopeSchema,
  V1EventDataSchemaByType,
  V1EventSchema,
  type Fulfilment,
  type FulfilmentPendingData,
  type V1Event,
  type V1EventDataByType,
  type V1EventType
} from '../src/schemas.js'

// FirstPromoter's examples are committed once, in @fp-webhooks/testing. Read by path: the plugin
// cannot depend on that package (it depends on the db package, which depends on the plugin).
const fixturesDir = new URL('../../testing/fixtures/', import.meta.url)
const fixtureNames = readdirSync(fixturesDir).filter((name) => name.endsWith('.json')).sort()

function load (name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../../testing/fixtures/${name}`, import.meta.url), 'utf8'))
}

/** The examples from FirstPromoter's docs, copied verbatim (shared/firstpromoter/examples). */
const EXAMPLES = [
  'fulfilment_pending.json',
  'lead_becomes_referral.json',
  'lead_cancelled.json',
  'lead_signup.json',
  'new_customer.json',
  'promoter_accepted.json',
  'promoter_signed_up.json',
  'reward_created.json'
]
const V2_EXAMPLE = 'commission.updated.json'

/** Every invalid fixture and the path its first error must point at. */
const INVALID: Record<string, string> = {
  'invalid-fulfilment-missing-id.json': '/data/id',
  'invalid-fulfilment-negative-amount.json': '/data/amount',
  'invalid-fulfilment-amount-not-numeric.json': '/data/amount',
  'invalid-fulfilment-amount-fraction.json': '/data/amount',
  'invalid-fulfilment-empty-unit.json': '/data/unit',
  'invalid-fulfilment-no-promoter.json': '/data/promoter',
  'invalid-fulfilment-promoter-null.json': '/data/promoter',
  'invalid-fulfilment-promoter-without-id.json': '/data/promoter/id',
  'invalid-event-id-not-numeric.json': '/event/id',
  'invalid-missing-event-type.json': '/event/type',
  'invalid-data-array.json': '/data',
  'invalid-data-null.json': '/data'
}

const variations = fixtureNames.filter((name) => name.startsWith('variation-'))
const invalids = fixtureNames.filter((name) => name.startsWith('invalid-'))
const validV1 = [...EXAMPLES, ...variations]

const envelope = TypeCompiler.Compile(V1EnvelopeSchema)
const event = TypeCompiler.Compile(V1EventSchema)
const fulfilmentData = TypeCompiler.Compile(FulfilmentPendingDataSchema)
const fulfilment = TypeCompiler.Compile(FulfilmentSchema)

function describe (errors: Iterable<ValueError>): string[] {
  return [...errors].map((error) => `${error.path}: ${error.message}`)
}

/** What the receiver checks strictly: the envelope, then the fulfilment facts when there are any. */
function strictErrors (payload: unknown): ValueError[] {
  if (!envelope.Check(payload)) return [...envelope.Errors(payload)]
  if (payload.event.type !== 'fulfilment_pending') return []
  return [...fulfilmentData.Errors(payload.data)].map((error) => ({ ...error, path: `/data${error.path}` }))
}

function eventType (payload: unknown): string {
  if (!envelope.Check(payload)) throw new Error('not a v1 envelope')
  return payload.event.type
}

t.test('fixtures folder holds every example and an expectation for every invalid file', async (t) => {
  for (const name of [...EXAMPLES, V2_EXAMPLE]) t.ok(fixtureNames.includes(name), name)
  t.same(invalids, Object.keys(INVALID).sort())
  t.ok(variations.length >= 12, 'variations are present')
})

t.test('examples and variations pass every v1 schema', async (t) => {
  for (const name of validV1) {
    t.test(name, async (t) => {
      const payload = load(name)
      t.same(describe(envelope.Errors(payload)), [], 'V1EnvelopeSchema')
      t.same(describe(event.Errors(payload)), [], 'V1EventSchema')
      t.same(describe(strictErrors(payload)), [], 'strict receiver checks')

      const type = eventType(payload)
      t.ok((V1_EVENT_TYPES as readonly string[]).includes(type), `${type} is a known type`)
      const data = (payload as { data: unknown }).data
      const dataSchema: TSchema = V1EventDataSchemaByType[type as V1EventType]
      t.same(describe(Value.Errors(dataSchema, data)), [], 'data schema of its type')

      if (type === 'fulfilment_pending') {
        t.same(describe(fulfilmentData.Errors(data)), [], 'FulfilmentPendingDataSchema')
        t.same(describe(fulfilment.Errors(data)), [], 'FulfilmentSchema')
      }
    })
  }
})

t.test('the examples and variations cover every known event type', async (t) => {
  const seen = new Set(validV1.map((name) => eventType(load(name))))
  t.same([...seen].sort(), [...V1_EVENT_TYPES].sort())
})

t.test('invalid fixtures fail at the field they break', async (t) => {
  for (const [name, path] of Object.entries(INVALID)) {
    t.test(name, async (t) => {
      const payload = load(name)
      const errors = strictErrors(payload)
      t.ok(errors.length > 0, 'rejected by the strict checks')
      t.equal(errors[0]?.path, path, describe(errors).join('; '))
      t.notOk(event.Check(payload), 'V1EventSchema rejects it too')
    })
  }
})

t.test('the envelope accepts what the receiver must store and ignore', async (t) => {
  const unknownType = { event: { id: 1, type: 'payout_paid', created_at: 'not a date' }, data: { anything: [1] } }
  t.ok(envelope.Check(unknownType), 'unknown type, odd created_at')
  t.notOk(event.Check(unknownType), 'not a known event')

  // An ordinary event is never refused for a detail in data: only the advisory check notices.
  const lead = load('lead_signup.json') as { data: Record<string, unknown> }
  const odd = { ...lead, data: { ...lead.data, id: 'abc', promotion: { hidden: 'no' } } }
  t.same(strictErrors(odd), [], 'passes the strict checks')
  t.notOk(event.Check(odd), 'the advisory check reports it')

  t.notOk(envelope.Check({ event: { id: 1, type: '' }, data: {} }), 'empty type')
  t.notOk(envelope.Check({ event: { id: 1, type: 'x'.repeat(101) }, data: {} }), 'type over 100 chars')
  t.notOk(envelope.Check({ event: { id: 1, type: 'lead_signup' } }), 'no data')
})

t.test('the fulfilment facts ignore malformed details elsewhere', async (t) => {
  const base = load('fulfilment_pending.json') as { data: { promoter: object, campaign: object } }
  const data = {
    ...base.data,
    campaign: { ...base.data.campaign, private: 'no' },
    promoter: { ...base.data.promoter, current_balance: { cash: '882' } }
  }
  t.ok(fulfilmentData.Check(data), 'strict check passes')
  t.notOk(fulfilment.Check(data), 'the full description notices')

  t.notOk(fulfilmentData.Check({ ...data, unit: 'u'.repeat(101) }), 'unit over 100 chars')
  t.notOk(fulfilmentData.Check({ ...data, amount: '1'.repeat(16) }), 'amount string over 15 digits')
  t.notOk(fulfilmentData.Check({ ...data, promoter: { id: 1, cust_id: 'c'.repeat(256) } }), 'cust_id over 255 chars')
  t.notOk(fulfilmentData.Check({ ...data, promoter: { id: 1, cust_id: 42 } }), 'numeric cust_id')
})

t.test('FpIdSchema', async (t) => {
  for (const id of [0, 1, 13007875, Number.MAX_SAFE_INTEGER, '0', '13007875', '9'.repeat(18)]) {
    t.ok(Value.Check(FpIdSchema, id), `accepts ${JSON.stringify(id)}`)
  }
  for (const id of [-1, 1.5, Number.MAX_SAFE_INTEGER + 2, '', '12a', ' 12', '-1', '1.5', '9'.repeat(19), null, true, {}]) {
    t.notOk(Value.Check(FpIdSchema, id), `rejects ${JSON.stringify(id)}`)
  }
})

// Compile-time checks (tsc -b runs them); the calls only keep them from being unused.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true> (): T | undefined { return undefined }

t.test('types', async (t) => {
  expectType<Equal<V1EventDataByType['fulfilment_pending']['amount'], number | string>>()
  expectType<Equal<V1EventDataByType['fulfilment_pending']['unit'], string>>()
  expectType<Equal<keyof V1EventDataByType, V1EventType>>()
  expectType<Equal<V1EventDataByType['promoter_signs_up'], V1EventDataByType['promoter_signed_up']>>()

  // @ts-expect-error lead events carry no amount
  type LeadAmount = V1EventDataByType['lead_signup']['amount'] // eslint-disable-line @typescript-eslint/no-unused-vars -- a compile-time check only

  // How the plugin will type handlers.
  const seen: string[] = []
  function on<T extends V1EventType> (type: T, handler: (data: V1EventDataByType[T]) => string): void {
    const payload = load('fulfilment_pending.json') as { data: V1EventDataByType[T] }
    seen.push(`${type}:${handler(payload.data)}`)
  }
  on('fulfilment_pending', (data) => `${data.amount} ${data.unit} for ${data.promoter.id}`)
  t.same(seen, ['fulfilment_pending:3 free_months for 5272969'])

  // The strictly checked facts are usable where the full description is expected.
  const facts: FulfilmentPendingData = { id: 1, amount: '2', unit: 'credits', promoter: { id: '5' } }
  const described: Fulfilment = facts
  t.equal(described.unit, 'credits')

  // TypeScript does not narrow a union on a nested discriminant (event.type), so a V1Event's data
  // is typed through V1EventDataByType once the type is known.
  const payload = load('reward_created.json')
  if (event.Check(payload)) {
    const known: V1Event = payload
    const data = known.data as V1EventDataByType['reward_created']
    t.equal(known.event.type, 'reward_created')
    t.equal(data.unit, 'cash')
  } else {
    t.fail('reward_created example must match')
  }
})
