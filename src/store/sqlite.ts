/**
 * `oncekey/sqlite`: the Store contract on a SQLite database file (better-sqlite3), safe for
 * several processes sharing the file. See {@link sqliteStore}.
 */
export { sqliteStore } from './sqlite/store.js';
export type { SqliteStoreOptions } from './sqlite/store.js';
export { SCHEMA_VERSION as SQLITE_SCHEMA_VERSION } from './sqlite/schema.js';
