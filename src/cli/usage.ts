/** The text `oncekey --help` and `oncekey proxy --help` print. */

export const MAIN_USAGE = `Usage: oncekey <command> [flags]

Commands:
  proxy    Run the idempotency gateway in front of an HTTP API

Run 'oncekey proxy --help' for its flags.
`;

export const PROXY_USAGE = `Usage: oncekey proxy --upstream URL [flags]

Puts Idempotency-Key semantics in front of an HTTP API: the first request with a key runs and
its response is stored; retries get it back (Idempotent-Replayed: true); a retry while the first
is running gets 409, the same key with another body 422. Other requests pass through untouched.

Flags (each can also be set by the environment variable in brackets; flags win):
  --upstream URL            API to proxy to, e.g. http://127.0.0.1:3000 (required) [ONCEKEY_UPSTREAM]
  --port N                  proxy port (default 8787; 0 = any free port) [ONCEKEY_PORT]
  --host ADDR               interface to listen on (default 127.0.0.1) [ONCEKEY_HOST]
  --store URL               where keys are kept (default sqlite:.oncekey/oncekey.db) [ONCEKEY_STORE]
                              sqlite:PATH         a SQLite file (directory created); safe for
                                                  several gateways on one machine
                              memory:             in this process only, lost on exit
                              postgres://…        PostgreSQL (needs pg; runs migrations;
                                                  ?table=NAME&schema=NAME to choose the table)
                              redis://…           Redis (needs ioredis; ?prefix=P to choose the
                                                  key prefix)
  --methods LIST            methods keys apply to (default POST,PATCH) [ONCEKEY_METHODS]
  --require-key             answer 400 to a covered request without a key [ONCEKEY_REQUIRE_KEY=1]
  --ttl DURATION            how long responses are kept for replay (default 24h) [ONCEKEY_TTL]
  --lease DURATION          how long a request holds its key before another may take it over;
                            renewed while it runs, so it bounds a crash (default 30s) [ONCEKEY_LEASE]
  --scope-header NAME       keep keys apart by this header's value, e.g. x-tenant-id (default:
                            by a hash of Authorization) [ONCEKEY_SCOPE_HEADER]
  --max-body SIZE           largest request body of a covered request, e.g. 1mb (default 1mb;
                            413 above) [ONCEKEY_MAX_BODY]
  --max-response-body SIZE  largest response kept for replay (default 1mb) [ONCEKEY_MAX_RESPONSE_BODY]
  --upstream-timeout DURATION
                            time the upstream has to answer (default 30s; then 504 and the key
                            is released) [ONCEKEY_UPSTREAM_TIMEOUT]
  --admin-port N|off        port of /healthz, /readyz, /metrics (default 8788) [ONCEKEY_ADMIN_PORT]
  --shutdown-timeout DURATION
                            on SIGTERM/SIGINT, how long in-flight requests may finish (default
                            10s) [ONCEKEY_SHUTDOWN_TIMEOUT]
  -h, --help                show this help

Durations: 250ms, 30s, 5m, 24h, 7d. Sizes: bytes, or with kb / mb (1024-based).
Exit codes: 0 after a clean shutdown, 1 on a runtime failure or requests cut at the shutdown
deadline, 2 on bad flags.
`;
