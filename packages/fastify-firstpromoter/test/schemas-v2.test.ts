import { readFileSync, readdirSync } from 'node:fs'
import t from 'tap'
import { TypeCompiler, type ValueError } from '@sinclair/typebox/compiler'
import { Value } from '@sinclair/typebox/value'
import {
  NON_MONETARY_UNITS,
  V2_EVENT_TYPES,
  V2CommissionSchema,
  V2EventDataSchemaByType,
  V2WebhookEnvelopeSchema,
  changeOf,
  entityTypeOf,
  isKnownV2EventType,
  isNonMonetaryUnit,
  isV2TestDelivery,
  type V2Event,
  type V2EventDataByType,
  type V2EventType,
  type V2WebhookEnvelope
} from '../src/index.js'

const dir = new URL('../../testing/fixtures/v2/', import.meta.url)
const fixtureNames = readdirSync(dir).filter(name => name.endsWith('.json')).sort()
const load = (name: string): unknown => JSON.parse(readFileSync(new URL(name, dir), 'utf8'))

/** Not envelopes on purpose. */
const NOT_ENVELOPES = new Set(['test-delivery-bare.json'])
/** Stored and ignored: no type list names them. */
const UNKNOWN_TYPES = new Set(['unknown-type.json'])

const envelope = TypeCompiler.Compile(V2WebhookEnvelopeSchema)
const describe = (errors: Iterable<ValueError>): string[] => [...errors].map(e => `${e.path}: ${e.message}`)

t.test('the fixtures include the repository example unchanged and every event family', async t => {
  // fixtures/commission.updated.json is the shared example as committed for the v1 tests.
  t.equal(readFileSync(new URL('commission.updated.json', dir), 'utf8'), readFileSync(new URL('../../testing/fixtures/commission.updated.json', import.meta.url), 'utf8'))
  const types = fixtureNames.filter(n => !NOT_ENVELOPES.has(n)).map(n => (load(n) as { event_type: string }).event_type)
  const families = new Set(types.map(type => type.split('.')[0]))
  for (const family of ['promoter', 'promoter_campaign', 'referral', 'commission', 'payout', 'contract_document']) {
    t.ok(families.has(family), `a ${family}.* fixture`)
  }
})

t.test('every v2 fixture passes the envelope and the data schema of its type', async t => {
  for (const name of fixtureNames) {
    if (NOT_ENVELOPES.has(name)) continue
    t.test(name, async t => {
      const payload = load(name)
      t.same(describe(envelope.Errors(payload)), [], 'V2WebhookEnvelopeSchema')
      if (!envelope.Check(payload)) return
      if (isV2TestDelivery(payload)) return
      const type = payload.event_type
      if (UNKNOWN_TYPES.has(name)) {
        t.notOk(isKnownV2EventType(type), `${type} is unknown`)
        return
      }
      t.ok(isKnownV2EventType(type), `${type} is known`)
      if (!isKnownV2EventType(type)) return
      t.same(describe(Value.Errors(V2EventDataSchemaByType[type], payload.data)), [], 'data schema of its type')
    })
  }
})

t.test('the bare test delivery is a test but not an envelope', async t => {
  const bare = load('test-delivery-bare.json')
  t.ok(isV2TestDelivery(bare))
  t.notOk(envelope.Check(bare))
  t.ok(isV2TestDelivery(load('test-delivery.json')))
  for (const name of fixtureNames.filter(n => !n.startsWith('test-delivery'))) t.notOk(isV2TestDelivery(load(name)), name)
  for (const body of [null, [], 'x', { data: null }, { data: [] }, { data: { test: 'true' } }, { data: { test: 1 } }]) {
    t.notOk(isV2TestDelivery(body), JSON.stringify(body))
  }
})

t.test('the envelope is strict on event_id, event_type and data only', async t => {
  const good = load('commission.updated.json') as Record<string, unknown>
  const firstPath = (value: unknown): string | undefined => envelope.Errors(value).First()?.path

  t.equal(firstPath({ ...good, event_id: undefined }), '/event_id', 'event_id required')
  t.equal(firstPath({ ...good, event_id: '' }), '/event_id', 'event_id not empty')
  t.equal(firstPath({ ...good, event_id: 42 }), '/event_id', 'event_id a string')
  t.equal(firstPath({ ...good, event_id: 'x'.repeat(101) }), '/event_id', 'event_id at most 100')
  t.equal(firstPath({ ...good, event_type: undefined }), '/event_type', 'event_type required')
  t.equal(firstPath({ ...good, event_type: '' }), '/event_type', 'event_type not empty')
  t.equal(firstPath({ ...good, event_type: 'x'.repeat(101) }), '/event_type', 'event_type at most 100')
  t.equal(firstPath({ ...good, data: undefined }), '/data', 'data required')
  t.equal(firstPath({ ...good, data: [] }), '/data', 'data an object')
  t.equal(firstPath({ ...good, data: null }), '/data', 'data not null')
  t.ok(envelope.Check({ ...good, changes: ['status'] }), 'changes of another shape is not a refusal: nothing relies on it (changeOf ignores it)')

  const minimal = { event_id: 'e-1', event_type: 'referral.created', data: {} }
  t.ok(envelope.Check(minimal), 'nothing else is required')
  t.ok(envelope.Check({ ...minimal, event_type: 'weird_type_without_dot' }), 'any event_type string')
  t.ok(envelope.Check({
    ...good, timestamp: 1737282600, action: null, entity_type: null, entity_id: null, changes: null, extra: { a: 1 }
  }), 'odd timestamp, nulls, extra fields')
  t.ok(envelope.Check({ ...good, changes: { status: 'approved', amount: [1, 2, 3] } }), 'a malformed change is not a refusal')
  t.ok(envelope.Check({ ...good, entity_id: '88901' }), 'string entity_id')
})

t.test('helpers: entity type, changes, units, event types', async t => {
  t.equal(entityTypeOf({ entity_type: 'Commission', event_type: 'commission.updated' }), 'commission')
  t.equal(entityTypeOf({ entity_type: ' PROMOTER_CAMPAIGN ', event_type: 'x.y' }), 'promoter_campaign')
  t.equal(entityTypeOf({ entity_type: null, event_type: 'Payout.commissions.added' }), 'payout')
  t.equal(entityTypeOf({ event_type: 'nodot' }), 'nodot')

  t.same(changeOf({ status: ['pending', 'approved'] }, 'status'), ['pending', 'approved'])
  t.same(changeOf({ customer_since: [null, '2025-01-20'] }, 'customer_since'), [null, '2025-01-20'])
  t.equal(changeOf({ status: 'approved' }, 'status'), null)
  t.equal(changeOf({ status: ['approved'] }, 'status'), null)
  t.equal(changeOf({}, 'status'), null)
  t.equal(changeOf(null, 'status'), null)
  t.equal(changeOf([['pending', 'approved']], 'status'), null)
  t.equal(changeOf(Object.create({ status: ['a', 'b'] }), 'status'), null, 'own properties only')

  t.same([...NON_MONETARY_UNITS], ['points', 'credits', 'free_months', 'mon_discount', 'discount_per'])
  for (const unit of NON_MONETARY_UNITS) t.ok(isNonMonetaryUnit(unit))
  for (const unit of ['cash', 'Points', '', null, 5]) t.notOk(isNonMonetaryUnit(unit), String(unit))

  t.equal(new Set(V2_EVENT_TYPES).size, V2_EVENT_TYPES.length, 'no duplicates')
  for (const older of ['promoter.profile.updated', 'payout.commissions.created', 'payout.commissions.updated', 'payout.commissions.deleted']) {
    t.ok(isKnownV2EventType(older), `older name ${older}`)
  }
  for (const type of V2_EVENT_TYPES) t.ok(V2EventDataSchemaByType[type], type)
  t.equal(V2EventDataSchemaByType['payout.commissions.added'], V2EventDataSchemaByType['payout.created'])
  t.equal(V2EventDataSchemaByType['commission.approved'], V2CommissionSchema)
})

t.test('the commission schema takes both documented shapes and requires its id', async t => {
  for (const name of ['commission.updated.json', 'commission.updated.flat-ids.json', 'commission.updated.cash.flat-ids.json']) {
    t.ok(Value.Check(V2CommissionSchema, (load(name) as { data: unknown }).data), name)
  }
  t.notOk(Value.Check(V2CommissionSchema, { status: 'approved' }), 'no id')
  t.notOk(Value.Check(V2CommissionSchema, { id: 'abc' }), 'id not numeric')
  t.ok(Value.Check(V2CommissionSchema, { id: '88901', amount: '2.5', referral: null, promoter_id: null }), 'strings and nulls')
})

// Compile-time checks (`pnpm run typecheck` compiles this file); the calls keep them used.
type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true : false
function expectType<T extends true> (): T | undefined { return undefined }

t.test('types narrow on event_type', async t => {
  expectType<Equal<keyof V2EventDataByType, V2EventType>>()
  expectType<Equal<V2EventDataByType['commission.updated'], V2EventDataByType['commission.approved']>>()
  expectType<Equal<V2EventDataByType['payout.commissions.added']['id'], number | string>>()
  expectType<Equal<V2EventDataByType['referral.converted']['uid'], string | null | undefined>>()

  // @ts-expect-error a promoter carries no unit
  type PromoterUnit = V2EventDataByType['promoter.created']['unit'] // eslint-disable-line @typescript-eslint/no-unused-vars -- a compile-time check only
  // @ts-expect-error not a v2 event type
  type Unknown = V2EventDataByType['commission.paid'] // eslint-disable-line @typescript-eslint/no-unused-vars -- a compile-time check only

  function describeEvent (event: V2Event): string {
    switch (event.event_type) {
      case 'commission.updated':
        return `${event.data.id} ${String(event.data.unit)} ${JSON.stringify(event.changes?.['status'] ?? null)}`
      case 'referral.created':
        // @ts-expect-error a referral has no unit, and the narrowing knows it
        return String(event.data.unit)
      default:
        return event.event_type
    }
  }

  const payload = load('commission.updated.json')
  if (!envelope.Check(payload) || !isKnownV2EventType(payload.event_type)) throw new Error('fixture must validate')
  const known = payload as V2WebhookEnvelope as V2Event
  t.equal(describeEvent(known), '88901 points ["pending","approved"]')
})
