import type { JobsOptions, Queue } from 'bullmq'

/**
 * Adds a job under its deterministic id even when a finished job holds that id: a completed or
 * failed one is removed first (an operator's replay or retry). A job still waiting, delayed or
 * running is left alone.
 * @returns 'queued', or 'already-queued' when a live job had the id
 */
export async function requeue (queue: Queue, name: string, data: unknown, options: JobsOptions & { jobId: string }): Promise<'queued' | 'already-queued'> {
  const existing = await queue.getJob(options.jobId)
  if (existing) {
    const state = await existing.getState()
    if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return 'already-queued'
    await existing.remove()
  }
  await queue.add(name, data, options)
  return 'queued'
}
