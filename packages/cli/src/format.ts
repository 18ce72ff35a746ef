import type { Attempt, NextStep, Report } from './simulate.js'

const answer = (a: Attempt) => (a.status !== null ? String(a.status) : a.error ?? 'no answer')

/** One attempt, e.g. `#2 recheck: 200 in 14 ms`. */
export function formatAttempt (a: Attempt): string {
  return `#${a.n} ${a.reason}: ${answer(a)} in ${a.elapsedMs} ms`
}

/** A progress line for stderr: the attempt and what follows it. */
export function formatProgress (report: Report, a: Attempt, next: NextStep): string {
  const then = next.action === 'stop' ? `-> ${report.outcome}` : `-> ${next.action} in ${next.inMs} ms`
  return `delivery ${report.delivery} ${formatAttempt(a)} ${then}`
}

/**
 * A report for people:
 * ```
 * delivery 1: fulfilment_pending event 1000000042 fulfilment 1000000043 -> completed
 *   #1 first: 202 in 212 ms
 *   #2 recheck: 200 in 14 ms
 * ```
 */
export function formatReport (report: Report): string {
  const fulfilment = report.fulfilmentId !== null ? ` fulfilment ${report.fulfilmentId}` : ''
  const head = `delivery ${report.delivery}: ${report.eventType} event ${report.eventId}${fulfilment} -> ${report.outcome}`
  return [head, ...report.attempts.map((a) => `  ${formatAttempt(a)}`)].join('\n')
}
