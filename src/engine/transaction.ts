/**
 * `Oncekey.transaction`: exactly-once for writes to the store's own database (PostgreSQL,
 * SQLite). The key record and the caller's writes through `tx` commit in one transaction, so
 * either both happen or neither does:
 *
 * ```ts
 * const { value } = await oncekey.transaction({ scope: 'orders', key }, async (tx: PoolClient) => {
 *   await tx.query('UPDATE accounts SET balance = balance - $1 WHERE id = $2', [amount, id]);
 *   return { charged: amount };
 * }, { input: { amount, id } });
 * ```
 *
 * - A duplicate that arrives while the first transaction runs waits for it (bounded by
 *   `wait.timeout`, default one lease; `onInProgress: 'throw'` does not wait) and replays its result.
 * - A thrown error, a crash, a lost connection: the database rolls back the writes and the
 *   record together, and a retry starts clean. Errors are never cached in this mode.
 * - SQLite: `tx` is the store's better-sqlite3 Database inside `BEGIN IMMEDIATE`, and `fn` must
 *   be synchronous (better-sqlite3 transactions cannot span an `await`); a returned promise is
 *   rolled back and rejected.
 * - PostgreSQL: `tx` is a `pg` PoolClient inside the transaction; do not COMMIT or ROLLBACK on it,
 *   and do not swallow a failed statement (PostgreSQL then aborts the transaction, and the call
 *   fails). The transaction may sit idle at most one lease (`idle_in_transaction_session_timeout`).
 */
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { type KeyRef, validateRef } from '../core/ref.js';
import { isTransactionalStore } from '../store/transactional.js';
import type { Calls } from './calls.js';
import { fingerprint } from './fingerprint.js';
import { encodeResult } from './outcome.js';
import type { RunResult } from './results.js';
import { type RunOptions, resolveRunOptions } from './settings.js';

/** Options of one transactional call; each overrides the engine's default. */
export interface TransactionOptions extends Omit<RunOptions, 'cacheErrors'> {
  /**
   * The request this call serves, fingerprinted: the same key with a different input is a
   * FingerprintMismatchError. Default `null` (the key alone identifies the request).
   */
  readonly input?: unknown;
}

/** What the transactional function learns about the call it serves. */
export interface TransactionContext {
  readonly ref: KeyRef;
  /** 1, or more when an expired lease of a non-transactional holder was taken over. */
  readonly attempt: number;
  readonly recovered: boolean;
}

const TRANSACTION_OPTIONS = ['ttl', 'lease', 'onInProgress', 'wait', 'input'] as const;

export async function runTransaction<Tx, O>(
  calls: Calls,
  ref: KeyRef,
  fn: (tx: Tx, context: TransactionContext) => Promise<O> | O,
  options?: TransactionOptions,
): Promise<RunResult<O>> {
  const { store, clock, hooks, waiters } = calls;
  if (!isTransactionalStore(store)) {
    throw new InvalidOptionError('Oncekey.store', `the ${store.name} store has no transactional mode (PostgreSQL and SQLite do)`);
  }
  const valid = validateRef(ref);
  if (typeof fn !== 'function') throw new TypeError('Oncekey.transaction: fn must be a function');
  const s = resolveRunOptions('transaction', options, calls.defaults, TRANSACTION_OPTIONS);
  const print = fingerprint(options !== undefined && 'input' in options ? options.input : null, 'input');

  return calls.loop<O>(valid, s, async (waitMs) => {
    const started = clock.now();
    let attempt = 0;
    try {
      const result = await store.transaction<O>(
        { ref: valid, fingerprint: print, ttlMs: s.ttlMs, leaseMs: s.leaseMs, waitMs },
        (tx, a) => {
          attempt = a.attempt;
          hooks.emit('onAcquire', { ref: valid, attempt: a.attempt, recovered: a.recovered, leaseUntil: clock.now() + s.leaseMs });
          if (a.recovered) hooks.emit('onRecover', { ref: valid, attempt: a.attempt });
          return fn(tx as Tx, { ref: valid, attempt: a.attempt, recovered: a.recovered });
        },
        // Raised inside the transaction, so an unserializable result rolls back with the writes.
        (value, a) => encodeResult(a, calls.encode(value)),
      );
      if (result.kind !== 'committed') return result;
      hooks.emit('onCommit', { ref: valid, attempt: result.attempt, durationMs: clock.now() - started, error: false });
      waiters.wake(valid);
      return { kind: 'done', result: { value: result.value, replayed: false, attempt: result.attempt } };
    } catch (error) {
      // Rolled back: the writes and the record are gone together; a retry starts clean.
      if (attempt > 0) {
        hooks.emit('onRelease', { ref: valid, attempt, durationMs: clock.now() - started, error });
        waiters.wake(valid);
      }
      throw error;
    }
  });
}
