/**
 * Versioned, idempotent schema migrations. Each table records its version in
 * `<schema>.oncekey_schema_versions`; `migrate()` applies the steps it is missing inside one
 * transaction under an advisory lock on the schema, so several processes may run it at once
 * (one does the work, the others wait and then find nothing to do).
 */
import type pg from 'pg';
import { quote } from '../../core/identifiers.js';

export interface MigrationResult {
  /** Version before the call (0: the table did not exist). */
  readonly from: number;
  /** Version after the call. */
  readonly to: number;
}

type Step = (table: string, name: string, schema: string) => string[];

/** Migration steps; version N is the N-th entry. Append, never edit. */
const STEPS: readonly Step[] = [
  // 1: one row per (scope, key); the expires_at index makes sweep proportional to what it removes.
  // COLLATE "C": keys compare and list in code point order, as in every other store.
  // bytea (UTF-8) for fingerprint and outcome: opaque strings may hold U+0000, which text cannot.
  (t, name, schema) => [
    `CREATE TABLE ${t} (
      scope        text    COLLATE "C" NOT NULL,
      key          text    COLLATE "C" NOT NULL,
      state        text    NOT NULL CHECK (state IN ('in_progress', 'completed')),
      fingerprint  bytea   NOT NULL,
      attempt      integer NOT NULL,
      created_at   bigint  NOT NULL,
      expires_at   bigint  NOT NULL,
      token        text,
      lease_until  bigint,
      outcome      bytea,
      completed_at bigint,
      PRIMARY KEY (scope, key)
    )`,
    `CREATE INDEX ${quote(`${name}_expires_at_idx`)} ON ${t} (expires_at)`,
    beginFunction(t, `${quote(schema)}.${quote(`${name}_begin`)}`),
  ],
  // 2: `begin` answers in a short text instead of a row of OUT parameters: building and sending
  // that composite row cost about 7% of a begin+commit pair's throughput (measured). Version 1's
  // function stays, so processes still on the old code keep working during a rolling upgrade.
  (t, name, schema) => [beginTextFunction(t, `${quote(schema)}.${quote(`${name}_begin2`)}`)],
];

// The statements both versions of the begin function run (see beginFunction), as plpgsql lines.
const insertIfAbsent = (
  t: string,
) => `        INSERT INTO ${t} (scope, key, state, fingerprint, attempt, created_at, expires_at, token, lease_until)
          VALUES (p_scope, p_key, 'in_progress', p_fingerprint, 1, now, now + p_ttl_ms, p_token, now + p_lease_ms)
          ON CONFLICT (scope, key) DO NOTHING;
`;
const readRow = (
  t: string,
) => `        SELECT k.state, k.fingerprint, k.attempt, k.expires_at, k.lease_until, k.outcome, k.completed_at INTO r
          FROM ${t} k WHERE k.scope = p_scope AND k.key = p_key;
        CONTINUE WHEN NOT FOUND; -- released or swept since the insert: insert again
`;
/** The fenced take-over, up to its RETURNING clause, which each version writes itself. */
const takeOver = (t: string) => `        UPDATE ${t} k SET
            state = 'in_progress',
            fingerprint = p_fingerprint,
            attempt = CASE WHEN k.expires_at <= now THEN 1 ELSE k.attempt + 1 END,
            created_at = CASE WHEN k.expires_at <= now THEN now ELSE k.created_at END,
            expires_at = now + p_ttl_ms,
            token = p_token,
            lease_until = now + p_lease_ms,
            outcome = NULL,
            completed_at = NULL
          WHERE k.scope = p_scope AND k.key = p_key
            AND (k.expires_at <= now OR (k.state = 'in_progress' AND k.lease_until <= now AND k.fingerprint = p_fingerprint))
`;
const NOT_SETTLED = `      RAISE EXCEPTION 'oncekey: begin on % did not settle (the row keeps changing, or the isolation level is not READ COMMITTED)', p_key
        USING ERRCODE = 'lock_not_available';
`;

/**
 * `begin` as one server-side call. Insert the key if it is absent (ON CONFLICT DO NOTHING waits
 * for a concurrent inserter, and neither locks nor writes an existing row); otherwise read the
 * row: when it is live and not ours to take (completed, a live lease, another fingerprint) that
 * read is the answer, so replays and in-progress polls write nothing. When it is expired (absent
 * for every purpose) or its lease expired with the same fingerprint, take it over with an UPDATE
 * that re-checks those conditions on the newest row version under its lock, so two concurrent
 * begins never both acquire. A lost race (the row vanished or changed) goes round again; each
 * statement of the function sees a fresh snapshot under READ COMMITTED. A function rather than
 * one statement with data-modifying CTEs: the same single round trip for about a third less
 * server CPU (measured), and retries never leave the server.
 */
function beginFunction(t: string, fn: string): string {
  return `CREATE FUNCTION ${fn}(
      p_now bigint, p_scope text, p_key text, p_fingerprint bytea, p_token text, p_lease_ms bigint, p_ttl_ms bigint,
      OUT acquired boolean, OUT state text, OUT same_fingerprint boolean, OUT attempt integer,
      OUT expires_at bigint, OUT lease_until bigint, OUT outcome bytea, OUT completed_at bigint, OUT now bigint)
    LANGUAGE plpgsql VOLATILE AS $begin$
    DECLARE
      r record;
    BEGIN
      now := coalesce(p_now, floor(date_part('epoch', statement_timestamp()) * 1000)::bigint);
      FOR run IN 1..100 LOOP
${insertIfAbsent(t)}        IF FOUND THEN
          acquired := true;
          state := 'in_progress';
          same_fingerprint := true;
          attempt := 1;
          expires_at := now + p_ttl_ms;
          lease_until := now + p_lease_ms;
          RETURN;
        END IF;
${readRow(t)}        IF r.expires_at > now AND (r.fingerprint <> p_fingerprint OR r.state = 'completed' OR r.lease_until > now) THEN
          acquired := false;
          state := r.state;
          same_fingerprint := r.fingerprint = p_fingerprint;
          attempt := r.attempt;
          expires_at := r.expires_at;
          lease_until := r.lease_until;
          outcome := r.outcome;
          completed_at := r.completed_at;
          RETURN;
        END IF;
${takeOver(t)}          RETURNING k.attempt, k.expires_at, k.lease_until INTO attempt, expires_at, lease_until;
        IF FOUND THEN
          acquired := true;
          state := 'in_progress';
          same_fingerprint := true;
          RETURN;
        END IF;
      END LOOP;
${NOT_SETTLED}    END
    $begin$`;
}

/**
 * Version 2 of `begin`: the same steps and guarantees as {@link beginFunction}, answered as text
 * (parsed by `beginAnswer` in index.ts), one of:
 *
 *   a<attempt>,<leaseUntil>                    acquired (attempt > 1: a lease taken over)
 *   r<completedAt>,<expiresAt>,<outcome base64> replay
 *   p<attempt>,<leaseUntil>,<now>              in progress under a live lease
 *   m<state>                                   live record with another fingerprint
 */
function beginTextFunction(t: string, fn: string): string {
  return `CREATE FUNCTION ${fn}(
      p_now bigint, p_scope text, p_key text, p_fingerprint bytea, p_token text, p_lease_ms bigint, p_ttl_ms bigint)
    RETURNS text LANGUAGE plpgsql VOLATILE AS $begin$
    DECLARE
      now bigint := coalesce(p_now, floor(date_part('epoch', statement_timestamp()) * 1000)::bigint);
      r record;
      taken integer;
    BEGIN
      FOR run IN 1..100 LOOP
${insertIfAbsent(t)}        IF FOUND THEN
          RETURN 'a1,' || (now + p_lease_ms);
        END IF;
${readRow(t)}        IF r.expires_at > now THEN
          IF r.fingerprint <> p_fingerprint THEN
            RETURN 'm' || r.state;
          ELSIF r.state = 'completed' THEN
            RETURN 'r' || r.completed_at || ',' || r.expires_at || ',' || encode(r.outcome, 'base64');
          ELSIF r.lease_until > now THEN
            RETURN 'p' || r.attempt || ',' || r.lease_until || ',' || now;
          END IF;
        END IF;
${takeOver(t)}          RETURNING k.attempt INTO taken;
        IF FOUND THEN
          RETURN 'a' || taken || ',' || (now + p_lease_ms);
        END IF;
      END LOOP;
${NOT_SETTLED}    END
    $begin$`;
}

/** The version this code writes and expects. */
export const SCHEMA_VERSION = STEPS.length;

export const VERSIONS_TABLE = 'oncekey_schema_versions';

/** Run the missing steps on one client (taken from the pool by the caller). */
export async function migrate(client: pg.PoolClient, schema: string, table: string, statementTimeoutMs: number): Promise<MigrationResult> {
  const t = `${quote(schema)}.${quote(table)}`;
  const versions = `${quote(schema)}.${quote(VERSIONS_TABLE)}`;
  await client.query('BEGIN');
  try {
    // SET LOCAL: bounded even on a pool the user configured without a statement timeout.
    await client.query(`SET LOCAL statement_timeout = ${statementTimeoutMs}`);
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`oncekey:migrate:${schema}`]);
    // Check first: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege even when it exists.
    const exists = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (exists.rowCount === 0) await client.query(`CREATE SCHEMA ${quote(schema)}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${versions} (
      table_name  text        PRIMARY KEY,
      version     integer     NOT NULL,
      migrated_at timestamptz NOT NULL DEFAULT now()
    )`);
    const row = await client.query<{ version: number }>(`SELECT version FROM ${versions} WHERE table_name = $1`, [table]);
    const from = row.rows[0]?.version ?? 0;
    if (from > SCHEMA_VERSION) {
      throw new Error(`${t} is at schema version ${from}, newer than this version of oncekey (${SCHEMA_VERSION})`);
    }
    for (let v = from + 1; v <= SCHEMA_VERSION; v++) {
      for (const sql of STEPS[v - 1]!(t, table, schema)) await client.query(sql);
    }
    if (from < SCHEMA_VERSION) {
      await client.query(
        `INSERT INTO ${versions} (table_name, version) VALUES ($1, $2)
         ON CONFLICT (table_name) DO UPDATE SET version = excluded.version, migrated_at = now()`,
        [table, SCHEMA_VERSION],
      );
    }
    await client.query('COMMIT');
    return { from, to: SCHEMA_VERSION };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
