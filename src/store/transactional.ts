/**
 * Transactional mode: exactly-once for writes to the same database as the store.
 *
 * A {@link TransactionalStore} runs the caller's work inside one database transaction that also
 * holds the key's record, and writes the completed record in that same transaction: the record
 * and the caller's writes commit together or not at all. A crash, a lost connection or a thrown
 * error rolls both back, so a retry starts clean; a concurrent duplicate waits for the
 * transaction that holds the key and then replays its outcome.
 *
 * Implemented by the PostgreSQL store (`tx`: the `pg` PoolClient inside the transaction) and the
 * SQLite store (`tx`: the better-sqlite3 Database inside `BEGIN IMMEDIATE`; the work must be
 * synchronous). The engine's `Oncekey.transaction` is the API most callers want.
 */
import type { InProgress, KeyRef, Mismatch, Replay, Store } from './contract.js';

export interface TransactionRequest {
  readonly ref: KeyRef;
  readonly fingerprint: string;
  /** Retention of the completed record. */
  readonly ttlMs: number;
  /**
   * The transactional counterpart of a lease: how long the transaction may sit idle holding the
   * key before the database ends it (PostgreSQL `idle_in_transaction_session_timeout`), so a hung
   * holder cannot block its key for longer. A crashed holder's transaction ends with its connection.
   */
  readonly leaseMs: number;
  /** How long to wait for another transaction that holds the key; 0: do not wait. */
  readonly waitMs: number;
}

/** Which attempt the work is. */
export interface TransactionAttempt {
  /** 1, or more when an expired lease of a non-transactional holder was taken over. */
  readonly attempt: number;
  readonly recovered: boolean;
}

/** The caller's work, given the transaction's handle. */
export type TransactionWork<Tx, T> = (tx: Tx, attempt: TransactionAttempt) => Promise<T> | T;

/** The work ran and its outcome committed with the record. */
export interface Committed<T> extends TransactionAttempt {
  readonly kind: 'committed';
  readonly value: T;
}

/** Another transaction held the key for longer than `waitMs`. */
export interface Locked {
  readonly kind: 'locked';
}

export type TransactionResult<T> = Committed<T> | Replay | Mismatch | InProgress | Locked;

export interface TransactionalStore<Tx> extends Store {
  /**
   * In one database transaction: lock the key's record (a concurrent transaction on the same key
   * waits up to its `waitMs`); when the key is absent, expired, or an expired lease with the same
   * fingerprint, run `work(tx)`, store `encode(value, attempt)` as the completed outcome and commit.
   * Otherwise roll back and answer `replay`, `mismatch`, `in_progress` (a live lease of a
   * non-transactional holder) or `locked`. When `work` or `encode` throws, roll back and rethrow
   * that error unchanged. Store failures are StoreUnavailableError; a failure during COMMIT leaves
   * the outcome unknown, but never half-applied.
   */
  transaction<T>(
    request: TransactionRequest,
    work: TransactionWork<Tx, T>,
    encode: (value: T, attempt: number) => string,
  ): Promise<TransactionResult<T>>;
}

/** True when `store` supports transactional mode. */
export function isTransactionalStore(store: Store): store is TransactionalStore<unknown> {
  return typeof (store as Partial<TransactionalStore<unknown>>).transaction === 'function';
}
