import { readFileSync } from 'node:fs'
import t from 'tap'
import { commissionApproval, type V2CommissionApproval, type V2WebhookEnvelope } from '../src/index.js'

const load = (name: string): V2WebhookEnvelope => JSON.parse(readFileSync(new URL(`../../testing/fixtures/v2/${name}`, import.meta.url), 'utf8'))

function approval (envelope: V2WebhookEnvelope): V2CommissionApproval {
  const decision = commissionApproval(envelope)
  if (!decision.approved) throw new Error(`expected an approval, got ${decision.reason}: ${decision.detail}`)
  return decision
}

t.test('commission.updated pending → approved, nested referral (current docs)', async t => {
  t.same(approval(load('commission.updated.json')), {
    approved: true,
    commissionId: 88901,
    trigger: 'status_change',
    unit: 'points',
    amount: 500,
    promoterId: null,
    promoterEmail: null,
    referral: { id: 55678, uid: 'user_ext_id', email: 'user@example.com' },
    beneficiary: null,
    missing: ['promoter'],
    needsLookup: true
  })
})

t.test('commission.updated pending → approved, flat ids (before April 2026)', async t => {
  t.same(approval(load('commission.updated.flat-ids.json')), {
    approved: true,
    commissionId: 88901,
    trigger: 'status_change',
    unit: 'points',
    amount: 500,
    promoterId: 12345,
    promoterEmail: null,
    referral: { id: 55678, uid: null, email: null },
    beneficiary: null,
    missing: ['referral'],
    needsLookup: true
  })
})

t.test('an API-shaped commission without a referral rewards the promoter and needs no lookup', async t => {
  const a = approval(load('commission.updated.entity-type-capitalised.json'))
  t.match(a, {
    commissionId: 88903,
    unit: 'free_months',
    amount: 1,
    promoterId: 12345,
    promoterEmail: 'jane@example.com',
    referral: null,
    beneficiary: 'promoter',
    missing: [],
    needsLookup: false
  })
})

t.test('commission.approved and an already approved commission.created are approvals', async t => {
  t.match(approval(load('commission.approved.json')), { commissionId: 88904, trigger: 'approved_event', unit: 'credits', amount: 250 })
  const created = load('commission.created.json')
  t.match(approval({ ...created, data: { ...created.data, status: 'approved' } }), { trigger: 'created_approved', commissionId: 88901 })
  const approved = load('commission.approved.json')
  t.match(commissionApproval({ ...approved, data: { ...approved.data, status: 'denied' } }), { approved: false, reason: 'denied' },
    'a commission.approved whose data says denied is not trusted')
  t.match(commissionApproval({ ...approved, data: { ...approved.data, status: 'pending' } }), { approved: false, reason: 'no_status_change' })
  t.match(commissionApproval({ ...approved, changes: { status: ['approved', 'pending'] } }), { approved: false, reason: 'not_approved' })
})

t.test('a re-approval after a denial counts; an unchanged status does not', async t => {
  const base = load('commission.updated.json')
  t.match(approval({ ...base, changes: { status: ['denied', 'approved'] } }), { trigger: 'status_change' })
  t.match(commissionApproval({ ...base, changes: { status: ['approved', 'approved'] } }), { approved: false, reason: 'not_approved', detail: 'the status did not change' })
  t.match(approval({ ...base, changes: { status: ['Pending', 'APPROVED'] } }), { trigger: 'status_change' }, 'statuses compared case-insensitively')
})

t.test('what is not an approval, and why', async t => {
  const cases: Array<[string, V2WebhookEnvelope, string]> = [
    ['created pending (nested)', load('commission.created.json'), 'not_approved'],
    ['created pending (flat)', load('commission.created.flat-ids.json'), 'not_approved'],
    ['denied', load('commission.updated.denied.json'), 'denied'],
    ['cash, nested', load('commission.updated.cash.json'), 'monetary'],
    ['test delivery', load('test-delivery.json'), 'test_delivery'],
    ['a referral event', load('referral.updated.json'), 'not_a_commission'],
    ['a payout event', load('payout.updated.completed.json'), 'not_a_commission'],
    ['an unknown type', load('unknown-type.json'), 'not_a_commission']
  ]
  for (const [what, envelope, reason] of cases) {
    const d = commissionApproval(envelope)
    t.equal(d.approved, false, what)
    if (!d.approved) {
      t.equal(d.reason, reason, what)
      t.notMatch(d.detail, /@/, `${what}: no email in the detail`)
    }
  }

  const base = load('commission.updated.json')
  t.match(commissionApproval({ ...base, event_type: 'commission.denied', changes: {} }), { reason: 'denied', commissionId: 88901 })
  t.match(commissionApproval({ ...base, changes: { amount: [400, 500] } }), { reason: 'no_status_change' })
  t.match(commissionApproval({ ...base, changes: {} }), { reason: 'no_status_change' })
  t.match(commissionApproval({ ...base, changes: { status: 'approved' } }), { reason: 'no_status_change' }, 'a malformed change is ignored')
  t.match(commissionApproval({ ...base, event_type: 'commission.deleted', changes: {} }), { reason: 'not_approved' })
  t.match(commissionApproval({ ...base, changes: { status: ['approved', 'pending'] } }), { reason: 'not_approved' })
  t.match(commissionApproval({ ...base, data: { ...base.data, unit: 'cash' } }), { reason: 'monetary', commissionId: 88901 })
  t.match(commissionApproval({ ...base, data: { ...base.data, unit: 'u'.repeat(200) } }), { reason: 'monetary', detail: /^unit u{40} is/ },
    'an unknown unit is not granted, and the detail stays short')
})

t.test('the monetary flat shape without a unit is not granted blindly', async t => {
  // The older cash example has `currency` and no `unit`: an approval whose unit must be looked up.
  const a = approval(load('commission.updated.cash.flat-ids.json'))
  t.same([a.unit, a.missing, a.needsLookup], [null, ['referral', 'unit'], true])
})

t.test('ids: data.id first, entity_id as fallback, bad ids refused', async t => {
  const base = load('commission.updated.json')
  t.match(approval({ ...base, data: { ...base.data, id: '88905' } }), { commissionId: 88905 })
  t.match(approval({ ...base, entity_id: 77, data: { ...base.data, id: undefined } }), { commissionId: 77 })
  t.match(approval({ ...base, entity_id: '77', data: { ...base.data, id: null } }), { commissionId: 77 })
  for (const id of [0, -1, 1.5, 'abc', '1'.repeat(16), null]) {
    t.match(commissionApproval({ ...base, entity_id: null, data: { ...base.data, id } }), { approved: false, reason: 'invalid_id', commissionId: null }, String(id))
  }
})

t.test('amounts and parties read tolerantly', async t => {
  const base = load('commission.updated.flat-ids.json')
  t.match(approval({ ...base, data: { ...base.data, amount: '2' } }), { amount: 2, missing: ['referral'] })
  t.match(approval({ ...base, data: { ...base.data, amount: -3 } }), { amount: null, missing: ['referral', 'amount'] })
  t.match(approval({ ...base, data: { ...base.data, promoter_id: '12345', referral_id: null } }), { promoterId: 12345, referral: null, beneficiary: 'promoter', needsLookup: false })
  t.match(approval({ ...base, data: { ...base.data, unit: 'Free_Months' } }), { unit: 'free_months' })
  const nested = load('commission.updated.json')
  t.match(approval({ ...nested, data: { ...nested.data, referral: { id: 55678, uid: '  ', email: '' } } }), { referral: { uid: null, email: null }, missing: ['promoter', 'referral'] })
})
