// Request bodies for the load generator: the ~3 KB FirstPromoter fixtures, serialised once into a
// template whose ids are filled in per request by string concatenation. Every request gets a fresh
// event.id and fresh entity ids (reward, lead, fulfilment), so nothing is answered as a duplicate:
// duplicates skip the insert and the enqueue and would flatter the numbers.
import { readFileSync } from 'node:fs'

const FIXTURES = new URL('../../../packages/testing/fixtures/', import.meta.url)

function fixture (name) {
  return JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'))
}

/**
 * Splits the serialised fixture at `"__NAME__"` markers: literal parts and slot names alternate.
 * Serialised with the fixture files' own two-space indentation, so bodies are the files' ~2.5-3 KB.
 */
function compile (obj) {
  const parts = JSON.stringify(obj, null, 2).split(/"__([A-Z_]+)__"/)
  return (values) => {
    let out = parts[0]
    for (let i = 1; i < parts.length; i += 2) {
      const v = values[parts[i]]
      if (v === undefined) throw new Error(`no value for ${parts[i]}`)
      out += v + parts[i + 1]
    }
    return out
  }
}

function rewardCreated () {
  const body = fixture('reward_created.json')
  body.event.id = '__EVENT_ID__'
  body.data.id = '__REWARD_ID__'
  if (body.data.lead) body.data.lead.id = '__LEAD_ID__'
  if (body.data.promoter) body.data.promoter.id = '__PROMOTER_ID__'
  return compile(body)
}

function leadSignup () {
  const body = fixture('lead_signup.json')
  body.event.id = '__EVENT_ID__'
  body.data.id = '__LEAD_ID__'
  if (body.data.promoter) body.data.promoter.id = '__PROMOTER_ID__'
  return compile(body)
}

function fulfilmentPending () {
  const body = fixture('fulfilment_pending.json')
  body.event.id = '__EVENT_ID__'
  body.data.id = '__FULFILMENT_ID__'
  body.data.promoter.id = '__PROMOTER_ID__'
  return compile(body)
}

const templates = {
  reward_created: rewardCreated(),
  lead_signup: leadSignup(),
  fulfilment_pending: fulfilmentPending()
}

// One sequence for every id of the run: unique across cases and kinds, safe integers, and far from
// the fixtures' own ids.
let seq = 2_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000
const next = () => ++seq
/** Promoters are drawn from a pool: real programs have many events per promoter. */
const PROMOTER_POOL = 1000
const promoterId = () => 6_000_000 + (seq % PROMOTER_POOL)

/** A fresh body of the given kind, as a JSON string. */
export function body (kind) {
  switch (kind) {
    case 'reward_created': return templates.reward_created({ EVENT_ID: next(), REWARD_ID: next(), LEAD_ID: next(), PROMOTER_ID: promoterId() })
    case 'lead_signup': return templates.lead_signup({ EVENT_ID: next(), LEAD_ID: next(), PROMOTER_ID: promoterId() })
    case 'fulfilment_pending': return templates.fulfilment_pending({ EVENT_ID: next(), FULFILMENT_ID: next(), PROMOTER_ID: promoterId() })
    default: throw new Error(`unknown kind ${kind}`)
  }
}

/** Ordinary events: reward_created and lead_signup alternately. */
export function ordinaryBodies () {
  let n = 0
  return () => body(n++ % 2 === 0 ? 'reward_created' : 'lead_signup')
}

export function fulfilmentBodies () {
  return () => body('fulfilment_pending')
}

/**
 * A steady mix: `fulfilmentShare` of the deliveries are fulfilments, spread evenly, the rest
 * alternate between reward_created and lead_signup.
 */
export function mixedBodies (fulfilmentShare) {
  let n = 0
  let owed = 0
  return () => {
    owed += fulfilmentShare
    if (owed >= 1) {
      owed -= 1
      return body('fulfilment_pending')
    }
    return body(n++ % 2 === 0 ? 'reward_created' : 'lead_signup')
  }
}

/** Fulfilment ids for the drain backlog (rows inserted by SQL, not through HTTP). */
export function nextFulfilmentId () {
  return next()
}
export { promoterId }
