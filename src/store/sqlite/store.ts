import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { BeginOptions, BeginResult, Clock, KeyRecord, KeyRef, ListOptions, ListPage, Store, SweepOptions } from '../contract.js';
import { systemClock } from '../../core/time.js';
import { InvalidOptionError } from '../../core/errors/invalid-option.js';
import { LeaseLostError } from '../../core/errors/lease-lost.js';
import { assertKnownOptions } from '../../core/options.js';
import { toStoreError } from './errors.js';
import { checkTableName, ensureSchema } from './schema.js';
import { answerFrom, prepareStatements, type Row, type Statements } from './statements.js';
import { sqliteTransaction } from './transaction.js';
import type { TransactionalStore, TransactionRequest, TransactionResult, TransactionWork } from '../transactional.js';
import { encodeCursor } from '../cursor.js';
import { beginOptions, clockOption, commitTtl, extendLease, listQuery, sweepOptions, toRecord } from '../kit.js';

export interface SqliteStoreOptions {
  /** Database file (created if missing), or `:memory:` for a private in-memory database. */
  readonly path: string;
  /**
   * `NORMAL` (default): in WAL mode a committed transaction survives a crash of the process
   * (even SIGKILL), but the last commits may be lost if the machine loses power or the OS
   * crashes before the WAL reaches the disk. `FULL`: every commit is fsynced, so it also
   * survives power loss, at the cost of one fsync per `begin` and per `commit`.
   */
  readonly synchronous?: 'FULL' | 'NORMAL';
  /**
   * How long a call waits for another connection's write lock before giving up with
   * `StoreUnavailableError`; default 5000 ms. 0 fails at once.
   */
  readonly busyTimeoutMs?: number;
  /** Source of time; default the system clock. */
  readonly clock?: Clock;
  /** Table name (a plain identifier); default `oncekey_records`. */
  readonly table?: string;
}

const KNOWN_OPTIONS = ['path', 'synchronous', 'busyTimeoutMs', 'clock', 'table'] as const;
const DEFAULT_BUSY_TIMEOUT_MS = 5000;
const DEFAULT_TABLE = 'oncekey_records';

/**
 * A store in a SQLite database file, shared safely by every process that opens the same file.
 *
 * The database runs in WAL mode; see {@link SqliteStoreOptions.synchronous} for the durability
 * trade-off. Every write is one atomic SQLite statement or one `BEGIN IMMEDIATE` transaction, and
 * every fenced write checks the token in its `WHERE`, so concurrent callers in any number of
 * processes never lose an update. A caller that cannot get the write lock within `busyTimeoutMs`
 * gets `StoreUnavailableError`; readers never wait for writers (WAL).
 *
 * The work is synchronous (better-sqlite3): each call blocks the event loop for the few
 * microseconds of its statement, and the returned promise is already settled.
 */
export function sqliteStore(options: SqliteStoreOptions): TransactionalStore<Database.Database> {
  if (options === undefined) throw new InvalidOptionError('sqliteStore.path', 'required');
  assertKnownOptions('sqliteStore', options, KNOWN_OPTIONS);
  const { path } = options;
  if (typeof path !== 'string' || path === '') {
    throw new InvalidOptionError('sqliteStore.path', `expected a file path or ':memory:', got ${JSON.stringify(path)}`);
  }
  const synchronous = options.synchronous ?? 'NORMAL';
  if (synchronous !== 'NORMAL' && synchronous !== 'FULL') {
    throw new InvalidOptionError('sqliteStore.synchronous', `expected 'NORMAL' or 'FULL', got ${JSON.stringify(synchronous)}`);
  }
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  if (typeof busyTimeoutMs !== 'number' || !Number.isSafeInteger(busyTimeoutMs) || busyTimeoutMs < 0) {
    throw new InvalidOptionError('sqliteStore.busyTimeoutMs', `expected an integer >= 0, got ${String(busyTimeoutMs)}`);
  }
  const clock = clockOption('sqliteStore', options.clock) ?? systemClock;
  const table = checkTableName(options.table ?? DEFAULT_TABLE);

  let db: Database.Database | undefined;
  try {
    db = new Database(path, { timeout: busyTimeoutMs });
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    ensureSchema(db, table);
    return new SqliteStore(db, prepareStatements(db, table), clock);
  } catch (error) {
    db?.close();
    throw toStoreError(error);
  }
}

class SqliteStore implements Store, TransactionalStore<Database.Database> {
  readonly name = 'sqlite';
  /** `begin` for a key that has a record: read, decide and write under one write lock. */
  private readonly beginLocked: (ref: KeyRef, fingerprint: string, leaseMs: number, ttlMs: number) => BeginResult;

  constructor(
    private readonly db: Database.Database,
    private readonly sql: Statements,
    private readonly clock: Clock,
  ) {
    this.beginLocked = db.transaction((ref: KeyRef, fingerprint: string, leaseMs: number, ttlMs: number): BeginResult => {
      const { sql } = this;
      const now = this.clock.now();
      const row = sql.find.get(ref.scope, ref.key);
      const answer = answerFrom(row, fingerprint, now);
      if (answer) return answer;
      const token = randomUUID();
      const leaseUntil = now + leaseMs;
      const expiresAt = now + ttlMs;
      if (row === undefined) {
        sql.insert.run(ref.scope, ref.key, fingerprint, now, expiresAt, token, leaseUntil);
        return { kind: 'acquired', token, attempt: 1, recovered: false, leaseUntil };
      }
      if (row.expires_at <= now) {
        sql.replace.run(fingerprint, now, expiresAt, token, leaseUntil, ref.scope, ref.key);
        return { kind: 'acquired', token, attempt: 1, recovered: false, leaseUntil };
      }
      // Live, in progress, same fingerprint, lease over: take it over.
      sql.takeOver.run(token, leaseUntil, expiresAt, ref.scope, ref.key);
      return { kind: 'acquired', token, attempt: row.attempt + 1, recovered: true, leaseUntil };
    }).immediate;
  }

  async begin(ref: KeyRef, fingerprint: string, options: BeginOptions): Promise<BeginResult> {
    const { leaseMs, ttlMs } = beginOptions(options);
    try {
      const now = this.clock.now();
      const token = randomUUID();
      const leaseUntil = now + leaseMs;
      // A fresh key, the common case: one autocommit statement, no transaction around it.
      if (this.sql.insert.run(ref.scope, ref.key, fingerprint, now, now + ttlMs, token, leaseUntil).changes === 1) {
        return { kind: 'acquired', token, attempt: 1, recovered: false, leaseUntil };
      }
      // A record holds the key. Replay, in_progress and mismatch are answered from one read, without
      // the write lock; an expired record or lease (or a record gone since the insert) is decided
      // again under the lock, so two processes can never both take it.
      return answerFrom(this.sql.find.get(ref.scope, ref.key), fingerprint, now) ?? this.beginLocked(ref, fingerprint, leaseMs, ttlMs);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async commit(ref: KeyRef, token: string, outcome: string, ttlMs: number): Promise<void> {
    commitTtl(ttlMs);
    try {
      const now = this.clock.now();
      if (this.sql.commit.run(outcome, now, now + ttlMs, ref.scope, ref.key, token, now).changes === 0) {
        throw this.leaseLost(ref, token, now);
      }
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async release(ref: KeyRef, token: string): Promise<void> {
    try {
      const now = this.clock.now();
      if (this.sql.release.run(ref.scope, ref.key, token, now).changes === 0) throw this.leaseLost(ref, token, now);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async extend(ref: KeyRef, token: string, leaseMs: number): Promise<number> {
    extendLease(leaseMs);
    try {
      const now = this.clock.now();
      const leaseUntil = now + leaseMs;
      if (this.sql.extend.run(leaseUntil, leaseUntil, ref.scope, ref.key, token, now).changes === 0) {
        throw this.leaseLost(ref, token, now);
      }
      return leaseUntil;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async get(ref: KeyRef): Promise<KeyRecord | undefined> {
    try {
      const row = this.sql.findLive.get(ref.scope, ref.key, this.clock.now());
      return row && recordOf(row);
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async delete(ref: KeyRef): Promise<boolean> {
    try {
      const now = this.clock.now();
      const expiresAt = this.sql.remove.get(ref.scope, ref.key);
      return expiresAt !== undefined && now < expiresAt;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async list(options: ListOptions): Promise<ListPage> {
    const { scope, state, after, limit } = listQuery(options);
    try {
      const now = this.clock.now();
      // One row more than asked tells whether another page exists.
      const rows =
        after === undefined
          ? this.sql.listFirst.all(scope, now, state ?? null, limit + 1)
          : this.sql.listAfter.all(scope, after, now, state ?? null, limit + 1);
      const more = rows.length > limit;
      if (more) rows.length = limit;
      const records = rows.map(recordOf);
      const last = rows[rows.length - 1];
      return more && last ? { records, cursor: encodeCursor(last.key) } : { records };
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async sweep(options?: SweepOptions): Promise<number> {
    const { batchSize, maxBatches } = sweepOptions(options);
    try {
      const now = this.clock.now();
      let removed = 0;
      // Each batch is its own autocommit statement, so other processes get the write lock between
      // batches; yielding between them lets this process's own requests through as well.
      for (let batch = 0; batch < maxBatches; batch++) {
        if (batch > 0) await yieldToEventLoop();
        const changes = this.sql.sweepBatch.run(now, batchSize).changes;
        removed += changes;
        if (changes < batchSize) break;
      }
      return removed;
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** Transactional mode: `work` gets this store's Database inside `BEGIN IMMEDIATE` (see ./transaction.ts). */
  transaction<T>(
    request: TransactionRequest,
    work: TransactionWork<Database.Database, T>,
    encode: (value: T, attempt: number) => string,
  ): Promise<TransactionResult<T>> {
    return sqliteTransaction(this.db, this.sql, this.clock, request, work, encode);
  }

  async ping(): Promise<void> {
    try {
      this.sql.ping.get();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  async close(): Promise<void> {
    try {
      if (this.db.open) this.db.close();
    } catch (error) {
      throw toStoreError(error);
    }
  }

  /** Why a fenced call failed, for the error message: one extra read on a path that is already failing. */
  private leaseLost(ref: KeyRef, token: string, now: number): LeaseLostError {
    const row = this.sql.findLive.get(ref.scope, ref.key, now);
    if (!row) return new LeaseLostError(ref, 'the record no longer exists (released, deleted or expired)');
    if (row.state === 'completed') return new LeaseLostError(ref, 'the key is already completed');
    return new LeaseLostError(
      ref,
      row.token === token ? 'the token is no longer current' : `the lease was taken over (attempt ${row.attempt})`,
    );
  }
}

function recordOf(row: Row): KeyRecord {
  return toRecord({
    ...row,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    leaseUntil: row.lease_until,
    completedAt: row.completed_at,
  });
}
