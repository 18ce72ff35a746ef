// autocannon, programmatically, with a fresh body per request (setupRequest).
import autocannon from 'autocannon'

export const SECRET = 'bench-secret-0123456789abcdef'
export const WEBHOOK_PATH = `/webhooks/firstpromoter/${SECRET}`

/**
 * One load run against `http://127.0.0.1:<port><WEBHOOK_PATH>`.
 * @param o.nextBody returns the next request body (a JSON string)
 * @param o.duration seconds (ignored when `amount` is set)
 * @param o.amount total requests, with `overallRate` requests/s for a steady-rate run
 * @param o.maxSeconds stops the run after this long whatever happens (bounded runs)
 * @param o.onTick called every second while the run lasts (sampling)
 * @param o.until a promise: the run stops when it settles (a load for as long as some work lasts)
 */
export async function runLoad ({
  port, nextBody, connections, duration, amount, overallRate, maxSeconds, onTick, until
}) {
  const started = Date.now()
  const instance = autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    ...(amount ? { amount } : { duration }),
    ...(overallRate ? { overallRate } : {}),
    timeout: 20,
    requests: [{
      method: 'POST',
      path: WEBHOOK_PATH,
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => {
        req.body = nextBody()
        return req
      }
    }]
  })
  const guard = maxSeconds ? setTimeout(() => instance.stop(), maxSeconds * 1000) : undefined
  until?.finally(() => instance.stop()).catch(() => {})
  const tick = onTick ? setInterval(() => onTick((Date.now() - started) / 1000), 1000) : undefined
  let result
  try {
    result = await instance
  } finally {
    clearTimeout(guard)
    clearInterval(tick)
  }
  const elapsed = (Date.now() - started) / 1000
  const status = {}
  for (const [code, s] of Object.entries(result.statusCodeStats ?? {})) status[code] = s.count
  const answered = Object.values(status).reduce((a, b) => a + b, 0)
  return {
    rps: answered / result.duration,
    answered,
    seconds: result.duration,
    elapsed,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
    status,
    stopped: maxSeconds ? elapsed >= maxSeconds - 0.5 : false
  }
}
