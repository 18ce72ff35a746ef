import { DURATION_FORMATS } from './duration.js'

// Help text lives apart from the commands so that `--help` loads neither Postgres nor BullMQ.

export const BIN = 'firstpromoter-webhooks'

const ENVIRONMENT = `Environment (as for the api and the worker; see the root README):
  DATABASE_URL   default postgres://postgres@127.0.0.1:5432/firstpromoter
  REDIS_URL      default redis://127.0.0.1:6379
  QUEUE_PREFIX   default fpw (must match the api's and the worker's)`

export const USAGE = `Usage: ${BIN} <command> [options]

Commands:
  migrate                       create the database if missing and apply migrations
  replay <event-id>             process a stored event again; re-queue its grant unless granted
  reconcile                     grant and close the fulfilments FirstPromoter still lists as pending
  prune --older-than <duration> drop old payloads and personal data; keep the ledger and ids
  simulate --url <url>          deliver webhooks as FirstPromoter does and report what it concludes

Run "${BIN} <command> --help" for a command's options.`

export const COMMAND_USAGE: Record<string, string> = {
  migrate: `Usage: ${BIN} migrate

Creates the database named in DATABASE_URL if it does not exist and applies pending migrations.
Safe to run from several processes at once.

${ENVIRONMENT}`,

  replay: `Usage: ${BIN} replay <event-id>

Processes a stored event again through the normal path: its event job is queued again, and for a
fulfilment_pending the grant job is queued again unless the fulfilment is already granted (a
replay never grants twice). <event-id> is the inbox row id (webhook_events.id, as the admin API
lists it), not FirstPromoter's event.id. A running worker does the work. Prints the result as JSON.

${ENVIRONMENT}`,

  reconcile: `Usage: ${BIN} reconcile

Lists FirstPromoter's pending fulfilments (v1 GET /payouts/list?status=pending) and, through the
BullMQ queues, grants the ones never received and closes the granted ones FirstPromoter still
thinks pending. With v2 credentials it also lists the approved, not yet fulfilled non-monetary
commissions (v2 GET /commissions?filters[status]=approved&filters[fulfilled]=no) and does the same
for them (the report's "v2"). A running worker does the grants and closes (exactly once). Prints
the report as JSON.

${ENVIRONMENT}
  FP_API_KEY              FirstPromoter v1 API key (this or the two v2 variables is required)
  FP_API_URL              default https://firstpromoter.com/api/v1
  FP_API_V2_KEY           FirstPromoter v2 API key, with FP_ACCOUNT_ID
  FP_ACCOUNT_ID           FirstPromoter v2 account id
  FP_API_V2_URL           default https://api.firstpromoter.com/api/v2/company
  FP_API_RATE_PER_MINUTE  default 300 (the budget shared with the workers)`,

  prune: `Usage: ${BIN} prune --older-than <duration>

Drops what is old and personal, keeps what proves grants: payloads of processed or failed inbox
rows, quarantined bodies, emails and profiles last touched before the cutoff. The ledger and every
id are kept. Prints the report as JSON.

Options:
  --older-than <duration>  ${DURATION_FORMATS}

${ENVIRONMENT}`,

  simulate: `Usage: ${BIN} simulate --url <webhook url> [options]

Delivers FirstPromoter's documented example payloads to your webhook URL and behaves as
FirstPromoter does with your answers. fulfilment_pending: exactly 200 is done ("completed"); any
other 2xx is sent again (same event and fulfilment id) at the next periodic check; anything else,
a timeout included, is an error retried up to 7 times, then "has_issues". Other events are sent
once. Prints one report per delivery: every attempt (status or error, elapsed ms) and the outcome
(completed | pending | has_issues | delivered | failed).

A v2 event type (commission.created, commission.updated, commission.approved, promoter.created,
promoter.updated, referral.created, referral.updated, payout.updated) is sent as a v2 webhook
subscription sends it: the v2 envelope with a fresh event_id, timestamp and entity id (data.id and
entity_id, unless set), X-Event-Id and X-Event-Type, plus --header and --basic-auth. Any 2xx is
"delivered"; anything else is retried on v2's schedule (--retry-interval, default 120000, doubled
each time up to 256 times it: 2, 4, 8 … 32 min, 1, 2, 4, 8.5 h), --max-retries times (default 10),
then "failed".

Options:
  --url <url>               webhook URL, secret included (required)
  --type <event type>       default fulfilment_pending; one of lead_signup, lead_becomes_referral,
                            new_customer, lead_cancelled, promoter_signed_up, promoter_signs_up,
                            promoter_accepted, reward_created, fulfilment_pending, or a v2 type
  --header <name: value>    repeatable; sent with every attempt (a v2 subscription's headers)
  --basic-auth <user:pass>  HTTP Basic credentials (a v2 subscription's)
  --set <path=value>        repeatable; a dot path into the payload, the value parsed as JSON when
                            it parses, else a string: --set data.unit=credits --set data.amount=5
                            --set 'data.promoter.cust_id="42"'
  --count <n>               deliveries, each with a fresh event.id (and data.id for fulfilments,
                            unless set); default 1
  --concurrency <n>         deliveries in flight at once; default 8
  --recheck-interval <ms>   wait after a non-200 2xx answer; default 3600000 (1 h)
  --retry-interval <ms>     wait after an error; default 12342857 (a day / 7); v2: the first
                            retry's wait, doubled each time; default 120000
  --max-rechecks <n>        re-sends after non-200 2xx answers before ending "pending"; default 24
  --max-retries <n>         re-sends after errors before "has_issues"; default 7 (v2: before
                            "failed"; default 10)
  --timeout <ms>            how long an answer may take; default 15000 (FirstPromoter's)
  --json                    print each report as one JSON line
  -h, --help                this help

Progress goes to stderr, reports to stdout. Exit code 0 when every delivery ended completed or
delivered, 2 otherwise, 1 on bad input.`
}
