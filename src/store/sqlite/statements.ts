import type Database from 'better-sqlite3';
import type { InProgress, Mismatch, Replay } from '../contract.js';

/** A record row as SQLite returns it (column names as in the table). */
export interface Row {
  scope: string;
  key: string;
  state: 'in_progress' | 'completed';
  fingerprint: string;
  attempt: number;
  created_at: number;
  expires_at: number;
  token: string | null;
  lease_until: number | null;
  completed_at: number | null;
  outcome: string | null;
}

/**
 * Every statement the store runs, prepared once per store. Anonymous `?` parameters keep binding
 * allocation-free (better-sqlite3 does not support `?NNN`); the comment above each lists their order.
 */
export function prepareStatements(db: Database.Database, table: string): Statements {
  const t = `"${table}"`;
  return {
    /**
     * The fast path of `begin`: a fresh key is acquired by this one statement (attempt 1).
     * Changes nothing when any record, live or expired, holds the key.
     * Params: scope, key, fingerprint, now, expiresAt, token, leaseUntil.
     */
    insert: db.prepare(
      `INSERT INTO ${t} (scope, key, state, fingerprint, attempt, created_at, expires_at, token, lease_until)
       VALUES (?, ?, 'in_progress', ?, 1, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    /**
     * Replaces an expired record by a fresh one, under the write lock.
     * Params: fingerprint, now, expiresAt, token, leaseUntil, scope, key.
     */
    replace: db.prepare(
      `UPDATE ${t} SET state = 'in_progress', fingerprint = ?, attempt = 1, created_at = ?, expires_at = ?, token = ?,
         lease_until = ?, completed_at = NULL, outcome = NULL
       WHERE scope = ? AND key = ?`,
    ),
    /**
     * Takes over an expired lease, under the write lock: new token, attempt + 1; createdAt kept.
     * Params: token, leaseUntil, expiresAt, scope, key.
     */
    takeOver: db.prepare(`UPDATE ${t} SET token = ?, lease_until = ?, expires_at = ?, attempt = attempt + 1 WHERE scope = ? AND key = ?`),
    /** Params: scope, key. */
    find: db.prepare<unknown[], Row>(`SELECT * FROM ${t} WHERE scope = ? AND key = ?`),
    /** Params: scope, key, now. */
    findLive: db.prepare<unknown[], Row>(`SELECT * FROM ${t} WHERE scope = ? AND key = ? AND expires_at > ?`),
    /**
     * Fenced: only the current token of a live in-progress record matches.
     * Params: outcome, now, expiresAt, scope, key, token, now.
     */
    commit: db.prepare(
      `UPDATE ${t} SET state = 'completed', outcome = ?, completed_at = ?, expires_at = ?, token = NULL, lease_until = NULL
       WHERE scope = ? AND key = ? AND token = ? AND state = 'in_progress' AND expires_at > ?`,
    ),
    /** Params: scope, key, token, now. */
    release: db.prepare(`DELETE FROM ${t} WHERE scope = ? AND key = ? AND token = ? AND state = 'in_progress' AND expires_at > ?`),
    /** Params: leaseUntil, leaseUntil, scope, key, token, now. */
    extend: db.prepare(
      `UPDATE ${t} SET lease_until = ?, expires_at = max(expires_at, ?)
       WHERE scope = ? AND key = ? AND token = ? AND state = 'in_progress' AND expires_at > ?`,
    ),
    /** Removes the record whatever its state; returns its expires_at so the caller can tell live from expired. Params: scope, key. */
    remove: db.prepare<unknown[], number>(`DELETE FROM ${t} WHERE scope = ? AND key = ? RETURNING expires_at`).pluck(),
    /** First page. Params: scope, now, state or null, limit. */
    listFirst: db.prepare<unknown[], Row>(
      `SELECT * FROM ${t} WHERE scope = ? AND expires_at > ? AND state = coalesce(?, state) ORDER BY key LIMIT ?`,
    ),
    /** Next pages, after the cursor's key. Params: scope, after, now, state or null, limit. */
    listAfter: db.prepare<unknown[], Row>(
      `SELECT * FROM ${t} WHERE scope = ? AND key > ? AND expires_at > ? AND state = coalesce(?, state) ORDER BY key LIMIT ?`,
    ),
    /**
     * One sweep batch: the subquery walks the expiry index from the oldest, so the work is
     * proportional to what is removed, not to the table. Params: now, batchSize.
     */
    sweepBatch: db.prepare(`DELETE FROM ${t} WHERE rowid IN (SELECT rowid FROM ${t} WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`),
    ping: db.prepare<unknown[], number>('SELECT 1').pluck(),
  };
}

type Statement<R = unknown> = Database.Statement<unknown[], R>;

export interface Statements {
  insert: Statement;
  replace: Statement;
  takeOver: Statement;
  find: Statement<Row>;
  findLive: Statement<Row>;
  commit: Statement;
  release: Statement;
  extend: Statement;
  remove: Statement<number>;
  listFirst: Statement<Row>;
  listAfter: Statement<Row>;
  sweepBatch: Statement;
  ping: Statement<number>;
}

/**
 * The answer a live record gives to `begin` (and to a transactional call), or undefined when the
 * key is acquirable: absent, expired, or in progress with an expired lease and the same fingerprint.
 */
export function answerFrom(row: Row | undefined, fingerprint: string, now: number): Replay | Mismatch | InProgress | undefined {
  if (row === undefined || row.expires_at <= now) return undefined;
  if (row.fingerprint !== fingerprint) return { kind: 'mismatch', state: row.state };
  if (row.state === 'completed') {
    return { kind: 'replay', outcome: row.outcome!, completedAt: row.completed_at!, expiresAt: row.expires_at };
  }
  const leaseUntil = row.lease_until!;
  if (now < leaseUntil) return { kind: 'in_progress', attempt: row.attempt, leaseUntil, retryAfterMs: leaseUntil - now };
  return undefined;
}
