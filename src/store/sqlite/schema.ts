import type Database from 'better-sqlite3';
import { InvalidOptionError } from '../../core/errors/invalid-option.js';
import { StoreUnavailableError } from '../../core/errors/store-unavailable.js';

/** The schema version this code writes and understands. Raise it with a migration, never in place. */
export const SCHEMA_VERSION = 1;

/**
 * Versions live in a meta table of their own rather than `PRAGMA user_version`: the store may share
 * a database file with the application (transactional mode), whose migrations often own that pragma.
 */
const META_TABLE = 'oncekey_schema';

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Table names are spliced into SQL, so only plain identifiers are accepted. */
export function checkTableName(table: unknown): string {
  if (typeof table !== 'string' || !IDENTIFIER.test(table)) {
    throw new InvalidOptionError(
      'sqliteStore.table',
      `expected a plain SQL identifier ([A-Za-z_][A-Za-z0-9_]*), got ${JSON.stringify(table)}`,
    );
  }
  return table;
}

/**
 * The records table: primary key (scope, key), plus an index on `expires_at` so `sweep` finds
 * expired records without scanning live ones. A rowid table rather than WITHOUT ROWID: measured
 * on begin+commit, WITHOUT ROWID costs the same for ~200-byte outcomes but up to twice the CPU for
 * outcomes of a few KB (its b-tree keeps less of each row in the page, so updates move more bytes).
 * `outcome` comes last so reading the other columns never walks its overflow pages.
 */
export function tableDdl(table: string): string {
  return `
    CREATE TABLE IF NOT EXISTS "${table}" (
      scope        TEXT    NOT NULL,
      key          TEXT    NOT NULL,
      state        TEXT    NOT NULL,
      fingerprint  TEXT    NOT NULL,
      attempt      INTEGER NOT NULL,
      created_at   INTEGER NOT NULL,
      expires_at   INTEGER NOT NULL,
      token        TEXT,
      lease_until  INTEGER,
      completed_at INTEGER,
      outcome      TEXT,
      PRIMARY KEY (scope, key)
    ) STRICT;
    CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON "${table}" (expires_at);`;
}

/**
 * Create the table on first open, or check that the existing one has a version this code knows.
 * Runs in an IMMEDIATE transaction so several processes opening a fresh file at once agree.
 */
export function ensureSchema(db: Database.Database, table: string): void {
  const known = readVersion(db, table);
  if (known === SCHEMA_VERSION) return;
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${META_TABLE} (table_name TEXT PRIMARY KEY, version INTEGER NOT NULL) STRICT`);
    const version = readVersion(db, table);
    if (version === SCHEMA_VERSION) return;
    if (version !== undefined) {
      throw new StoreUnavailableError(
        'sqlite',
        `table "${table}" has schema version ${version}, this version of oncekey understands ${SCHEMA_VERSION}` +
          (version > SCHEMA_VERSION ? '; upgrade oncekey' : ''),
      );
    }
    const exists = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(table);
    if (exists) {
      throw new StoreUnavailableError('sqlite', `table "${table}" exists but was not created by oncekey; choose another \`table\``);
    }
    db.exec(tableDdl(table));
    db.prepare(`INSERT INTO ${META_TABLE} (table_name, version) VALUES (?, ?)`).run(table, SCHEMA_VERSION);
  }).immediate();
}

function readVersion(db: Database.Database, table: string): number | undefined {
  const meta = db.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?`).get(META_TABLE);
  if (!meta) return undefined;
  const version = db.prepare(`SELECT version FROM ${META_TABLE} WHERE table_name = ?`).pluck().get(table);
  return typeof version === 'number' ? version : undefined;
}
