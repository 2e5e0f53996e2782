/**
 * The SQL of the PostgreSQL store, one statement per store operation, so each operation is one
 * round trip. Every statement takes `$1` = "now" in milliseconds, or NULL to read the database
 * server's clock: app servers with skewed clocks then still agree on leases and expiry.
 */
import { quote } from '../../core/identifiers.js';

/** Columns in the order `rowToRecord` expects; bigint times arrive as strings. */
const COLUMNS = 'scope, key, state, fingerprint, attempt, created_at, expires_at, token, lease_until, outcome, completed_at';

// "Now" in milliseconds: $1 when a clock is injected, else the server's statement_timestamp()
// (when the server received the statement; stable, so every use in a statement agrees). date_part,
// not extract: float8 arithmetic, where extract's numeric costs measurable server CPU per call.
const NOW = `coalesce($1::bigint, floor(date_part('epoch', statement_timestamp()) * 1000)::bigint)`;

export interface Statements {
  readonly begin: string;
  readonly commit: string;
  readonly release: string;
  readonly extend: string;
  readonly get: string;
  readonly delete: string;
  readonly list: string;
  readonly sweep: string;
  /** Transactional mode: insert-or-lock the key's row. */
  readonly lock: string;
  /** Transactional mode: store the outcome in the locked row. */
  readonly complete: string;
}

// Transactional lock: the row is absent for every purpose (expired), or its lease expired with
// our fingerprint. Right-hand sides of SET see the old row, so these read the row before update.
const EXPIRED = 'r.expires_at <= excluded.created_at';
const TAKEOVER = `(r.state = 'in_progress' AND r.lease_until <= excluded.created_at AND r.fingerprint = excluded.fingerprint)`;
const TAKE = `(${EXPIRED} OR ${TAKEOVER})`;

/** Build the statements for one `schema.table`. */
export function statements(schema: string, table: string): Statements {
  const t = `${quote(schema)}.${quote(table)}`;
  return {
    // $2 scope, $3 key, $4 fingerprint (UTF-8 bytes), $5 token, $6 leaseMs, $7 ttlMs. The logic
    // lives in the `<table>_begin2` function that migrate() creates (see migrate.ts for why and for
    // its answer, one text column `r`). Called in the select list, not in FROM, where the server
    // would first copy its result into a tuple store.
    begin: `SELECT ${quote(schema)}.${quote(`${table}_begin2`)}($1::bigint, $2, $3, $4::bytea, $5, $6::bigint, $7::bigint) AS r`,

    // $2 scope, $3 key, $4 token, $5 outcome (UTF-8 bytes), $6 ttlMs
    commit: `UPDATE ${t} r SET state = 'completed', outcome = $5::bytea, completed_at = ${NOW},
  expires_at = ${NOW} + $6::bigint, token = NULL, lease_until = NULL
WHERE r.scope = $2 AND r.key = $3 AND r.token = $4 AND r.state = 'in_progress' AND r.expires_at > ${NOW}`,

    // $2 scope, $3 key, $4 token
    release: `DELETE FROM ${t} r
WHERE r.scope = $2 AND r.key = $3 AND r.token = $4 AND r.state = 'in_progress' AND r.expires_at > ${NOW}`,

    // $2 scope, $3 key, $4 token, $5 leaseMs
    extend: `UPDATE ${t} r SET lease_until = ${NOW} + $5::bigint, expires_at = greatest(r.expires_at, ${NOW} + $5::bigint)
WHERE r.scope = $2 AND r.key = $3 AND r.token = $4 AND r.state = 'in_progress' AND r.expires_at > ${NOW}
RETURNING r.lease_until`,

    // $2 scope, $3 key
    get: `SELECT ${COLUMNS} FROM ${t} r WHERE r.scope = $2 AND r.key = $3 AND r.expires_at > ${NOW}`,

    // $2 scope, $3 key. Removes the row whatever its state; reports whether it was live.
    delete: `DELETE FROM ${t} r WHERE r.scope = $2 AND r.key = $3 RETURNING r.expires_at > ${NOW} AS live`,

    // $2 scope, $3 state or NULL, $4 after key or NULL, $5 limit. Keyset paging on the primary key.
    list: `SELECT ${COLUMNS} FROM ${t} r
WHERE r.scope = $2 AND r.expires_at > ${NOW}
  AND ($3::text IS NULL OR r.state = $3::text)
  AND ($4::text IS NULL OR r.key > $4::text)
ORDER BY r.key
LIMIT $5::int`,

    // $2 batch size, $3 lower bound on expires_at (or NULL). Walks the expiry index from the
    // oldest; each batch starts where the previous one ended, so it does not re-walk the index
    // entries of rows the previous batches deleted (they stay until VACUUM, and would make a
    // long sweep quadratic). SKIP LOCKED: a sweeper never waits on (or blocks) a live begin/commit.
    // synchronous_commit off for this statement's own commit only: a batch lost in a crash just
    // removed records that every operation already treats as absent, and any later write that
    // was acknowledged flushed the WAL past it anyway.
    sweep: `WITH relaxed AS MATERIALIZED (SELECT set_config('synchronous_commit', 'off', true) AS setting),
batch AS (
  SELECT r.scope, r.key FROM ${t} r
  WHERE r.expires_at <= ${NOW} AND r.expires_at >= coalesce($3::bigint, -9223372036854775808)
  ORDER BY r.expires_at LIMIT $2::int FOR UPDATE SKIP LOCKED
),
gone AS (
  DELETE FROM ${t} r USING batch
  WHERE r.scope = batch.scope AND r.key = batch.key AND r.expires_at <= ${NOW}
  RETURNING r.expires_at
)
SELECT count(*)::int AS removed, max(expires_at) AS upto, (SELECT setting FROM relaxed) AS synchronous_commit FROM gone`,

    /*
     * $2 scope, $3 key, $4 fingerprint, $5 token, $6 leaseMs, $7 ttlMs, $8 and $9 the session's
     * lock_timeout and statement_timeout. Inserts a placeholder row (uncommitted: a concurrent
     * duplicate's INSERT waits on it until we commit or roll back), or locks the existing row
     * with an update that takes it when it is ours to take and otherwise changes nothing, so the
     * RETURNING row is the newest version, locked by us. Then puts back the timeouts that bounded
     * the wait, so the caller's own statements run with the session's settings.
     */
    lock: `WITH up AS (
  INSERT INTO ${t} AS r (scope, key, state, fingerprint, attempt, created_at, expires_at, token, lease_until)
  VALUES ($2, $3, 'in_progress', $4::bytea, 1, ${NOW}, ${NOW} + $7::bigint, $5, ${NOW} + $6::bigint)
  ON CONFLICT (scope, key) DO UPDATE SET
    state = CASE WHEN ${TAKE} THEN 'in_progress' ELSE r.state END,
    fingerprint = CASE WHEN ${TAKE} THEN excluded.fingerprint ELSE r.fingerprint END,
    attempt = CASE WHEN ${EXPIRED} THEN 1 WHEN ${TAKEOVER} THEN r.attempt + 1 ELSE r.attempt END,
    created_at = CASE WHEN ${EXPIRED} THEN excluded.created_at ELSE r.created_at END,
    expires_at = CASE WHEN ${TAKE} THEN excluded.expires_at ELSE r.expires_at END,
    token = CASE WHEN ${TAKE} THEN excluded.token ELSE r.token END,
    lease_until = CASE WHEN ${TAKE} THEN excluded.lease_until ELSE r.lease_until END,
    outcome = CASE WHEN ${TAKE} THEN NULL ELSE r.outcome END,
    completed_at = CASE WHEN ${TAKE} THEN NULL ELSE r.completed_at END
  RETURNING r.token IS NOT DISTINCT FROM $5 AS ours, r.state, r.fingerprint = $4::bytea AS same_fingerprint,
    r.attempt, r.expires_at, r.lease_until, r.outcome, r.completed_at
)
SELECT up.*, ${NOW} AS now, set_config('lock_timeout', $8, true) AS lock_timeout,
  set_config('statement_timeout', $9, true) AS statement_timeout
FROM up`,

    // $2 scope, $3 key, $4 token, $5 outcome (UTF-8 bytes), $6 ttlMs. Retention counts from now.
    complete: `UPDATE ${t} r SET state = 'completed', outcome = $5::bytea, completed_at = ${NOW},
  expires_at = ${NOW} + $6::bigint, token = NULL, lease_until = NULL
WHERE r.scope = $2 AND r.key = $3 AND r.token = $4 AND r.state = 'in_progress'`,
  };
}
