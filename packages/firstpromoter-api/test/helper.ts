import { startFakeFirstPromoter, type FakeFirstPromoter, type FakeFirstPromoterOptions } from '../src/fake-server.js'
import { createV1Client, createV2Client, type V1ClientOptions, type V2ClientOptions } from '../src/index.js'

export const API_KEY = 'fp_live_3f9c2a7d51e8b604'
export const ACCOUNT_ID = 'acc_9x71'

interface Teardown { teardown: (fn: () => unknown) => void }

/** Starts a fake FirstPromoter closed at teardown. */
export async function startFake (t: Teardown, options: FakeFirstPromoterOptions = {}): Promise<FakeFirstPromoter> {
  const fake = await startFakeFirstPromoter({ apiKey: API_KEY, accountId: ACCOUNT_ID, ...options })
  t.teardown(async () => { await fake.close() })
  return fake
}

/** Records the client's waits instead of sleeping, so retry tests run instantly. */
export function recordSleeps (): { sleeps: number[], sleep: (ms: number) => Promise<void> } {
  const sleeps: number[] = []
  return { sleeps, sleep: async (ms) => { sleeps.push(ms) } }
}

export function v1For (fake: FakeFirstPromoter, options: Partial<V1ClientOptions> = {}) {
  return createV1Client({ apiKey: API_KEY, baseUrl: fake.url, ...options })
}

export function v2For (fake: FakeFirstPromoter, options: Partial<V2ClientOptions> = {}) {
  return createV2Client({ apiKey: API_KEY, accountId: ACCOUNT_ID, baseUrl: fake.v2Url, ...options })
}
