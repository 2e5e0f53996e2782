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
import { FingerprintMismatchError } from '../core/errors/mismatch.js';
import { InProgressError } from '../core/errors/in-progress.js';
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { ReplayedError } from '../core/errors/replayed-error.js';
import { UnserializableResultError } from '../core/errors/unserializable-result.js';
import type { Clock, KeyRef, Replay, Store } from '../store/contract.js';
import { isTransactionalStore, type TransactionalStore } from '../store/transactional.js';
import type { Codec } from './codec.js';
import { fingerprint } from './fingerprint.js';
import type { HookRunner } from './hooks.js';
import type { RunResult } from './results.js';
import { decodeOutcome, encodeResult } from './outcome.js';
import { validateRef } from '../core/ref.js';
import { type RunOptions, type Settings, resolveRunOptions } from './settings.js';
import type { LocalWaiters } from './waiters.js';

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

/** The engine's parts a transactional call uses (passed by `Oncekey`, which owns them). */
export interface TransactionEngine {
  readonly store: unknown;
  readonly clock: Clock;
  readonly codec: Codec;
  readonly hooks: HookRunner;
  readonly random: () => number;
  readonly defaults: Settings;
  readonly waiters: LocalWaiters;
}

const TRANSACTION_OPTIONS = ['ttl', 'lease', 'onInProgress', 'wait', 'input'] as const;

export async function runTransaction<Tx, O>(
  engine: TransactionEngine,
  ref: KeyRef,
  fn: (tx: Tx, context: TransactionContext) => Promise<O> | O,
  options?: TransactionOptions,
): Promise<RunResult<O>> {
  const candidate = engine.store as Store;
  if (!isTransactionalStore(candidate)) {
    throw new InvalidOptionError('Oncekey.store', `the ${candidate.name} store has no transactional mode (PostgreSQL and SQLite do)`);
  }
  const store = candidate as TransactionalStore<Tx>;
  const valid = validateRef(ref);
  if (typeof fn !== 'function') throw new TypeError('Oncekey.transaction: fn must be a function');
  const s = resolveRunOptions('transaction', options, engine.defaults, TRANSACTION_OPTIONS);
  const print = fingerprint(options !== undefined && 'input' in options ? options.input : null, 'input');
  const { clock, hooks, waiters } = engine;

  let delay = s.minDelayMs;
  const deadline = clock.now() + (s.waitTimeoutMs ?? s.leaseMs);
  for (let first = true; ; first = false) {
    const started = clock.now();
    let attempt = 0;
    let result;
    try {
      result = await store.transaction<O>(
        {
          ref: valid,
          fingerprint: print,
          ttlMs: s.ttlMs,
          leaseMs: s.leaseMs,
          waitMs: s.onInProgress === 'throw' ? 0 : Math.max(0, deadline - started),
        },
        (tx, a) => {
          attempt = a.attempt;
          hooks.emit('onAcquire', { ref: valid, attempt: a.attempt, recovered: a.recovered, leaseUntil: clock.now() + s.leaseMs });
          if (a.recovered) hooks.emit('onRecover', { ref: valid, attempt: a.attempt });
          return fn(tx, { ref: valid, attempt: a.attempt, recovered: a.recovered });
        },
        (value, a) => encodeResult(a, encode(engine.codec, value)),
      );
    } catch (error) {
      // Rolled back: the writes and the record are gone together; a retry starts clean.
      if (attempt > 0) {
        hooks.emit('onRelease', { ref: valid, attempt, durationMs: clock.now() - started, error });
        waiters.wake(valid);
      }
      throw error;
    }

    switch (result.kind) {
      case 'committed':
        hooks.emit('onCommit', { ref: valid, attempt: result.attempt, durationMs: clock.now() - started, error: false });
        waiters.wake(valid);
        return { value: result.value, replayed: false, attempt: result.attempt };
      case 'replay':
        return replay<O>(engine, valid, result);
      case 'mismatch':
        hooks.emit('onMismatch', { ref: valid, state: result.state });
        throw new FingerprintMismatchError(valid);
      case 'locked':
      case 'in_progress': {
        // `locked`: another transaction held the key for our whole wait. `in_progress`: a
        // non-transactional holder (wrap/run) has a live lease; poll as `run` does.
        const retryAfterMs = result.kind === 'in_progress' ? result.retryAfterMs : s.maxDelayMs;
        if (first) {
          hooks.emit('onInProgress', {
            ref: valid,
            attempt: result.kind === 'in_progress' ? result.attempt : 1,
            retryAfterMs,
            action: s.onInProgress,
          });
        }
        const remaining = deadline - clock.now();
        if (s.onInProgress === 'throw' || result.kind === 'locked' || remaining <= 0) {
          throw new InProgressError(valid, retryAfterMs);
        }
        const jittered = delay / 2 + (engine.random() * delay) / 2;
        await waiters.sleep(valid, Math.max(1, Math.ceil(Math.min(jittered, remaining, retryAfterMs))));
        delay = Math.min(delay * 2, s.maxDelayMs);
      }
    }
  }
}

function replay<O>(engine: TransactionEngine, ref: KeyRef, answer: Replay): RunResult<O> {
  const outcome = decodeOutcome(answer.outcome);
  engine.hooks.emit('onReplay', { ref, attempt: outcome.attempt, completedAt: answer.completedAt, error: outcome.kind === 'error' });
  if (outcome.kind === 'error') throw new ReplayedError(ref, outcome.error);
  return { value: engine.codec.decode(outcome.text) as O, replayed: true, attempt: outcome.attempt };
}

/** The codec's text, or an UnserializableResultError (raised inside the transaction: it rolls back). */
function encode(codec: Codec, value: unknown): string {
  let text: unknown;
  try {
    text = codec.encode(value);
  } catch (cause) {
    if (cause instanceof UnserializableResultError) throw cause;
    const error = new UnserializableResultError(
      'result',
      `the codec could not encode it: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    error.cause = cause;
    throw error;
  }
  if (typeof text !== 'string') throw new UnserializableResultError('result', `codec.encode returned ${typeof text}, expected a string`);
  return text;
}
