import { fileURLToPath } from 'node:url'
import t from 'tap'
import { createPostgresStore, getEvent } from '@fp-webhooks/db'
import { v1Delivery, type V1Envelope } from 'fastify-firstpromoter'
import {
  createHandlers,
  defineFirstPromoter,
  isFirstPromoterDefinition,
  loadDefinitionFromEnv,
  type AnyFirstPromoterEvent,
  type GrantContext
} from '../src/index.js'
import { fixture, seedFulfilment, setup, startWorker, uniqueId, waitFor, waitForState } from './helper.js'

const definitionFixture = (name: string) => fileURLToPath(new URL(`fixtures/definitions/${name}`, import.meta.url))
const v2Example = (name: string) => fixture(`v2/${name}`)

t.test('defineFirstPromoter checks what it is given', async (t) => {
  const definition = defineFirstPromoter({ grants: { credits: () => {} } })
  t.ok(isFirstPromoterDefinition(definition))
  t.same(Object.keys(definition.grants), ['credits'])
  t.equal(definition.handlers.size, 0, 'no handlers: an empty set')
  t.ok(Object.isFrozen(definition) && Object.isFrozen(definition.grants), 'frozen: one definition, read by both processes')
  t.throws(() => defineFirstPromoter({ grants: { credits: 'nope' as never } }), { name: 'TypeError', message: /grants\.credits must be a function/ })
  t.throws(() => defineFirstPromoter({ handlers: { on () {} } as never }), { message: /handlers must be made with createHandlers/ })
  t.throws(() => defineFirstPromoter({ grant: {} } as never), { message: /unknown option\(s\) grant/ })
  t.notOk(isFirstPromoterDefinition({ grants: {}, handlers: createHandlers() }), 'a look-alike is not a definition')
})

t.test('createHandlers: on(type | type[]), onAny, aliases, unknown types refused', async (t) => {
  const handlers = createHandlers()
  const a = () => {}
  const b = () => {}
  const any = () => {}
  handlers.on('new_customer', a).on(['lead_becomes_referral', 'new_customer', 'commission.updated'], b).onAny(any)
  t.same(handlers.handlersFor('lead_becomes_referral'), [b, a, any], 'its own, then the alias\'s, each once, onAny last')
  t.same(handlers.handlersFor('new_customer'), [a, b, any])
  t.same(handlers.handlersFor('commission.updated'), [b, any], 'a v2 type')
  t.same(handlers.handlersFor('brand_new_type'), [any], 'a type nobody knows: onAny only')
  t.throws(() => handlers.on('reward_creatd' as never, a), { name: 'TypeError', message: /unknown FirstPromoter event type "reward_creatd"; use onAny/ })
  t.throws(() => handlers.on([] as never, a), { message: /at least one event type/ })
  t.throws(() => handlers.on('lead_signup', 'nope' as never), { message: /handler must be a function/ })
  t.throws(() => handlers.onAny(undefined as never), { message: /handler must be a function/ })
})

t.test('the environment names the definition module; deprecated variables still work, with a warning', async (t) => {
  const loaded = await loadDefinitionFromEnv({ FP_DEFINITION_MODULE: definitionFixture('definition.mjs') })
  t.same([loaded.variable, Object.keys(loaded.definition!.grants), loaded.definition!.handlers.size, loaded.warnings], ['FP_DEFINITION_MODULE', ['credits', 'points'], 1, []])

  const alias = await loadDefinitionFromEnv({ FP_HANDLERS_MODULE: definitionFixture('definition.mjs') })
  t.equal(alias.variable, 'FP_HANDLERS_MODULE')
  t.match(alias.warnings, [/FP_HANDLERS_MODULE is deprecated: rename it FP_DEFINITION_MODULE/])
  const same = await loadDefinitionFromEnv({ FP_DEFINITION_MODULE: definitionFixture('definition.mjs'), FP_HANDLERS_MODULE: definitionFixture('definition.mjs') })
  t.same(same.warnings, [], 'both naming one module: no warning')

  const oldHandlers = await loadDefinitionFromEnv({ FP_HANDLERS_MODULE: definitionFixture('handlers-only.mjs') })
  t.equal(oldHandlers.definition!.handlers.size, 1, 'a module exporting `handlers` is read as a definition of them')
  const oldGrants = await loadDefinitionFromEnv({ FP_GRANTS_MODULE: definitionFixture('grants-only.mjs') })
  t.same(Object.keys(oldGrants.definition!.grants), ['credits'])
  t.match(oldGrants.warnings, [/FP_GRANTS_MODULE is deprecated/])

  t.same(await loadDefinitionFromEnv({}), { definition: undefined, variable: undefined, warnings: [] }, 'none: the built-in ledger, no handlers')
  await t.rejects(loadDefinitionFromEnv({ FP_DEFINITION_MODULE: 'a.mjs', FP_HANDLERS_MODULE: 'b.mjs' }), { name: 'ConfigError' })
  await t.rejects(loadDefinitionFromEnv({ FP_DEFINITION_MODULE: 'a.mjs', FP_GRANTS_MODULE: 'b.mjs' }), { name: 'ConfigError', message: /put the grants in the definition module/ })
  await t.rejects(loadDefinitionFromEnv({ FP_DEFINITION_MODULE: definitionFixture('not-a-definition.mjs') }), { name: 'TypeError', message: /must `export default defineFirstPromoter/ })
})

t.test('a grant function gets the reward\'s public facts, the transaction and the key; never the storage row', async (t) => {
  const ctx = await setup(t)
  const seen: GrantContext[] = []
  const worker = await startWorker(t, ctx, {
    definition: defineFirstPromoter({ grants: { credits: (context) => { seen.push(context) } } })
  })
  const f = await seedFulfilment(ctx.db, { unit: 'credits', amount: 4, custId: 'cus_42', email: 'ann@example.com', answeredPending: true })
  await worker.deps.enqueueGrant(f.id)
  await waitForState(ctx.db, f.id, 'granted')
  t.equal(seen.length, 1)
  const { fulfilment, tx, idempotencyKey } = seen[0]!
  t.strictSame(fulfilment, {
    source: 'v1_payout',
    id: f.id,
    unit: 'credits',
    amount: 4,
    beneficiary: 'cust:cus_42',
    promoterId: f.promoterId,
    custId: 'cus_42',
    email: 'ann@example.com',
    referral: null,
    party: null
  }, 'the documented GrantRequest: no answeredPending, apiClose, attempts')
  t.ok(Object.isFrozen(fulfilment))
  t.equal(idempotencyKey, `firstpromoter-fulfilment-${f.id}`)
  t.type(tx.execute, 'function')
})

t.test('the worker runs a definition\'s handlers with one event object, v1 and v2', async (t) => {
  const ctx = await setup(t)
  const seen: Array<{ via: string, event: AnyFirstPromoterEvent }> = []
  const handlers = createHandlers()
    .on('reward_created', (event) => { seen.push({ via: 'reward_created', event }) })
    .on('commission.updated', (event) => { seen.push({ via: 'commission.updated', event }) })
    .onAny((event) => { seen.push({ via: 'any', event }) })
  const worker = await startWorker(t, ctx, { definition: defineFirstPromoter({ handlers }) })
  const store = createPostgresStore(ctx.db)

  const reward = fixture<V1Envelope & { event: { id: number } }>('reward_created.json')
  reward.event.id = uniqueId()
  const v1 = await store.record(v1Delivery(reward))
  const commission = v2Example('commission.updated.json')
  commission.event_id = `evt-${uniqueId()}`
  const v2 = await store.record({ source: 'v2', eventId: commission.event_id, eventType: commission.event_type, eventCreatedAt: null, dedupeKey: null, payload: commission })
  const unknown = { event_id: `evt-${uniqueId()}`, event_type: 'brand_new.thing', data: { x: 1 } }
  const other = await store.record({ source: 'v2', eventId: unknown.event_id, eventType: unknown.event_type, eventCreatedAt: null, dedupeKey: null, payload: unknown })
  for (const [row, type] of [[v1, 'reward_created'], [v2, 'commission.updated'], [other, 'brand_new.thing']] as const) await worker.deps.enqueueEvent(row.inboxId!, type)
  await waitFor(async () => (await Promise.all([v1, v2, other].map((r) => getEvent(ctx.db, r.inboxId!)))).every((e) => e?.state === 'processed'), 10_000, 'three events processed')

  t.same(seen.map((s) => `${s.via}:${s.event.type}`).sort(), [
    'any:brand_new.thing', 'any:commission.updated', 'any:reward_created', 'commission.updated:commission.updated', 'reward_created:reward_created'
  ])
  const v1Event = seen.find((s) => s.via === 'reward_created')!.event
  t.match(v1Event, { id: String(reward.event.id), type: 'reward_created', source: 'v1', known: true, inboxId: v1.inboxId, data: { id: reward.data.id } })
  const v2Event = seen.find((s) => s.via === 'commission.updated')!.event
  t.match(v2Event, { id: commission.event_id, type: 'commission.updated', source: 'v2', known: true, inboxId: v2.inboxId, changes: commission.changes, data: { id: commission.data.id } })
  const unknownEvent = seen.find((s) => s.event.type === 'brand_new.thing')!.event
  t.match(unknownEvent, { known: false, source: 'v2', data: { x: 1 } })
})

t.test('a v2 commission reaches a grant function as its own source, with its own id and the referred customer', async (t) => {
  const { grantRequestOf } = await import('../src/grants.js')
  const base = { unit: 'credits', amount: 5, beneficiary: 'promoter:7', promoterId: 7, custId: null, promoterEmail: 'p@example.com' }
  const facts = { unit: 'credits', amount: 5, beneficiary: 'promoter:7', promoterId: 7, custId: null, email: 'p@example.com' }
  t.same(grantRequestOf({ ...base, id: -42, kind: 'v2_commission', referralId: 9, referralUid: 'ref-9', referralEmail: 'c@example.com', party: 'referral' }),
    { ...facts, source: 'v2_commission', id: 42, referral: { id: 9, uid: 'ref-9', email: 'c@example.com' }, party: 'referral' },
    'commission 42, stored as -42, is granted as commission 42')
  t.same(grantRequestOf({ ...base, id: 42, kind: 'v1_payout', referralId: null, referralUid: null, referralEmail: null, party: null }), {
    source: 'v1_payout', id: 42, unit: 'credits', amount: 5, beneficiary: 'promoter:7', promoterId: 7, custId: null, email: 'p@example.com', referral: null, party: null
  }, 'payout 42 is another reward')
})
