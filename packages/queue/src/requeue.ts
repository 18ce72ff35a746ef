import type { JobsOptions, Queue } from 'bullmq'

export type Enqueued = 'queued' | 'already-queued'

/**
 * Adds a job under its deterministic id even when a finished job holds that id: a completed or
 * failed one is removed first, since BullMQ ignores an add whose id exists. A job still waiting,
 * delayed or running is left alone: it will run. Two callers racing both end with one live job.
 * @returns 'queued', or 'already-queued' when a live job had the id
 */
export async function requeue (
  queue: Queue,
  name: string,
  data: unknown,
  options: JobsOptions & { jobId: string }
): Promise<Enqueued> {
  const state = await queue.getJobState(options.jobId)
  if (state === 'completed' || state === 'failed') {
    // 0 when another caller removed it first, or it became active meanwhile: the add below is then a no-op.
    await queue.remove(options.jobId)
  } else if (state !== 'unknown') {
    return 'already-queued'
  }
  await queue.add(name, data, options)
  return 'queued'
}
