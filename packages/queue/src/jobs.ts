import type { Queue } from 'bullmq'
import { CLOSE_JOB_OPTIONS, EVENT_JOB_OPTIONS, GRANT_JOB_OPTIONS, RECONCILE_JOB_OPTIONS } from './job-options.js'
import { JOB, RECONCILE_JOB_ID, V2_CLOSE_JOB_ID, closeJobId, eventJobId, grantJobId, type CloseJobData, type EventJobData, type GrantJobData, type GrantReward, type ReconcileJobData } from './names.js'
import { requeue, type Enqueued } from './requeue.js'

export interface JobQueues {
  grants: Queue<GrantJobData>
  events: Queue<EventJobData>
  maintenance: Queue
}

/**
 * The one enqueue policy: for each kind of job its name, options and deterministic id, and that
 * asking for it again makes a job that runs. A finished job (completed or failed) holding the id is
 * replaced, since BullMQ silently ignores an add whose id exists; a live one (waiting, delayed,
 * running) is left alone. Every producer (api, worker, CLI, admin) enqueues through this.
 */
export function createJobs (queues: JobQueues) {
  const grant = (fulfilmentId: number, reward?: GrantReward): Promise<Enqueued> => {
    // The reward rides along so that a queue dashboard shows what the job grants.
    const data: GrantJobData = reward ? { fulfilmentId, unit: reward.unit, amount: reward.amount } : { fulfilmentId }
    return requeue(queues.grants, JOB.grant, data, { ...GRANT_JOB_OPTIONS, jobId: grantJobId(fulfilmentId) })
  }
  return {
    /** The grant of a fulfilment (`grant-<id>`); `reward`, when known, is shown with the job. */
    grant,

    /**
     * The grant, run now: as `grant`, and a grant waiting out its backoff is promoted (an operator
     * retrying after fixing the cause should not wait up to an hour).
     */
    async grantNow (fulfilmentId: number, reward?: GrantReward): Promise<Enqueued> {
      const job = await queues.grants.getJob(grantJobId(fulfilmentId))
      if (job && await job.getState() === 'delayed') {
        await job.promote().catch(() => {}) // it may have just started running: fine either way
        return 'already-queued'
      }
      // A finished job being replaced passes on the reward it showed.
      const { unit, amount } = job?.data ?? {}
      return grant(fulfilmentId, reward ?? (unit !== undefined && amount !== undefined ? { unit, amount } : undefined))
    },

    /** The processing of an inbox row (`event-<inboxId>`). */
    event: (inboxId: number, eventType: string): Promise<Enqueued> =>
      requeue(queues.events, JOB.event, { inboxId, eventType }, { ...EVENT_JOB_OPTIONS, jobId: eventJobId(inboxId) }),

    /**
     * Inbox rows just inserted, in one round trip (the api's hot path). No finished job can hold a
     * new row's id, except one left by an earlier database under the same prefix: the sweeper,
     * which uses `event`, replaces that one.
     */
    async newEvents (rows: readonly EventJobData[]): Promise<void> {
      await queues.events.addBulk(rows.map((data) => ({
        name: JOB.event,
        data,
        opts: { ...EVENT_JOB_OPTIONS, jobId: eventJobId(data.inboxId) }
      })))
    },

    /**
     * Grants of fulfilments just recorded, in one round trip: no job can hold a new fulfilment's id
     * (except one left by an earlier database under the same prefix; the sweeper's `grant` replaces it).
     */
    async newGrants (rows: readonly GrantJobData[]): Promise<void> {
      await queues.grants.addBulk(rows.map((data) => ({
        name: JOB.grant,
        data,
        opts: { ...GRANT_JOB_OPTIONS, jobId: grantJobId(data.fulfilmentId) }
      })))
    },

    /**
     * Closing a granted fulfilment through FirstPromoter's API (`close-<id>`). A v2 commission's
     * (a negative fulfilment id, see the db package's `v2FulfilmentId`) joins the one batch close job.
     */
    close: (fulfilmentId: number): Promise<Enqueued> =>
      requeue(queues.maintenance, JOB.closeFulfilment, { fulfilmentId } satisfies CloseJobData, {
        ...CLOSE_JOB_OPTIONS,
        jobId: fulfilmentId < 0 ? V2_CLOSE_JOB_ID : closeJobId(fulfilmentId)
      }),

    /** A reconciliation run asked for by hand; one at a time. */
    reconcile: (data: ReconcileJobData = {}): Promise<Enqueued> =>
      requeue(queues.maintenance, JOB.reconcile, data, { ...RECONCILE_JOB_OPTIONS, jobId: RECONCILE_JOB_ID })
  }
}

export type Jobs = ReturnType<typeof createJobs>
