/**
 * Versioned, idempotent schema migrations. Each table records its version in
 * `<schema>.oncekey_schema_versions`; `migrate()` applies the steps it is missing inside one
 * transaction under an advisory lock on the schema, so several processes may run it at once
 * (one does the work, the others wait and then find nothing to do).
 */
import type pg from 'pg';
import { quote } from './identifiers.js';

export interface MigrationResult {
  /** Version before the call (0: the table did not exist). */
  readonly from: number;
  /** Version after the call. */
  readonly to: number;
}

type Step = (table: string, name: string) => string[];

/** Migration steps; version N is the N-th entry. Append, never edit. */
const STEPS: readonly Step[] = [
  // 1: one row per (scope, key); the expires_at index makes sweep proportional to what it removes.
  // COLLATE "C": keys compare and list in code point order, as in every other store.
  // bytea (UTF-8) for fingerprint and outcome: opaque strings may hold U+0000, which text cannot.
  (t, name) => [
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
  ],
];

/** The version this code writes and expects. */
export const SCHEMA_VERSION = STEPS.length;

export const VERSIONS_TABLE = 'oncekey_schema_versions';

/** Run the missing steps on one client (taken from the pool by the caller). */
export async function migrate(
  client: pg.PoolClient,
  schema: string,
  table: string,
  statementTimeoutMs: number,
): Promise<MigrationResult> {
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
      for (const sql of STEPS[v - 1]!(t, table)) await client.query(sql);
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
