/**
 * Transactional mode on SQLite: the key's record and the caller's writes in one `BEGIN IMMEDIATE`
 * transaction on the store's own connection. The work gets that better-sqlite3 `Database` and
 * must be synchronous: better-sqlite3 runs a transaction to completion without yielding, so a
 * work that returned a promise would let other calls in between (the transaction is rolled back
 * and the call rejected instead).
 *
 * `BEGIN IMMEDIATE` takes SQLite's write lock first: a duplicate in another process waits for it
 * (up to the store's busy timeout, then StoreUnavailableError) and then reads the committed
 * outcome. A crash mid-transaction leaves nothing: SQLite ignores an uncommitted transaction on
 * the next open.
 */
import { randomUUID } from 'node:crypto';
import type Database from 'better-sqlite3';
import { InvalidOptionError } from '../../core/errors/invalid-option.js';
import { LeaseLostError } from '../../core/errors/lease-lost.js';
import type { Clock } from '../contract.js';
import type { TransactionRequest, TransactionResult, TransactionWork } from '../transactional.js';
import { transactionRequest } from '../kit.js';
import { toStoreError } from './errors.js';
import { answerFrom, type Statements } from './statements.js';

export async function sqliteTransaction<T>(
  db: Database.Database,
  sql: Statements,
  clock: Clock,
  request: TransactionRequest,
  work: TransactionWork<Database.Database, T>,
  encode: (value: T, attempt: number) => string,
): Promise<TransactionResult<T>> {
  const { ref, fingerprint } = request;
  const { leaseMs, ttlMs } = transactionRequest(request);
  /** Our own statements: driver errors become StoreUnavailableError. */
  const store = <R>(step: () => R): R => {
    try {
      return step();
    } catch (error) {
      throw toStoreError(error);
    }
  };
  if (store(() => db.inTransaction)) {
    throw new InvalidOptionError('transaction', 'the SQLite handle is already inside a transaction (transactions do not nest)');
  }
  store(() => db.exec('BEGIN IMMEDIATE'));
  let open = true;
  const rollback = () => {
    if (open && db.open && db.inTransaction) store(() => db.exec('ROLLBACK'));
    open = false;
  };
  try {
    const now = clock.now();
    const row = store(() => sql.find.get(ref.scope, ref.key));
    const answer = answerFrom(row, fingerprint, now);
    if (answer) {
      rollback();
      return answer;
    }
    // Ours to take: the same transitions as `begin`, inside the transaction.
    const token = randomUUID();
    const leaseUntil = now + leaseMs;
    const expiresAt = now + ttlMs;
    let attempt = 1;
    if (row === undefined) store(() => sql.insert.run(ref.scope, ref.key, fingerprint, now, expiresAt, token, leaseUntil));
    else if (row.expires_at <= now) store(() => sql.replace.run(fingerprint, now, expiresAt, token, leaseUntil, ref.scope, ref.key));
    else {
      store(() => sql.takeOver.run(token, leaseUntil, expiresAt, ref.scope, ref.key));
      attempt = row.attempt + 1;
    }
    const recovered = attempt > 1;

    const value = work(db, { attempt, recovered });
    if (isThenable(value)) {
      // Settle it quietly: the transaction is rolled back whatever it does.
      value.then(undefined, () => undefined);
      throw new TypeError('Oncekey.transaction on SQLite: fn must be synchronous (better-sqlite3 transactions cannot span an await)');
    }
    if (!db.inTransaction) {
      open = false;
      throw new InvalidOptionError('transaction', 'fn ended the transaction itself (COMMIT or ROLLBACK inside it)');
    }
    const outcome = encode(value, attempt);
    const done = clock.now();
    // The commit statement's expiry check gets -inf: under our write lock, retention counts from now.
    if (store(() => sql.commit.run(outcome, done, done + ttlMs, ref.scope, ref.key, token, Number.MIN_SAFE_INTEGER)).changes !== 1) {
      throw new LeaseLostError(ref, 'fn removed or changed the key record');
    }
    store(() => db.exec('COMMIT'));
    open = false;
    return { kind: 'committed', value, attempt, recovered };
  } catch (error) {
    try {
      rollback();
    } catch {
      // The caller's error is the one to report; a failed rollback leaves nothing committed.
    }
    throw error;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
  );
}
