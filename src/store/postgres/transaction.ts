/**
 * Transactional mode on PostgreSQL: the key's row and the caller's writes in one transaction.
 *
 * Round trips: (1) BEGIN and the timeouts that bound waiting for the key; (2) insert-or-lock the
 * row — a duplicate whose transaction holds the key makes us wait here, then we see its
 * committed outcome (replay) or, after its rollback, take the key; (3) the caller's own
 * statements on `tx`; (4) the completed outcome into the locked row; (5) COMMIT.
 *
 * The caller's statements must not COMMIT or ROLLBACK themselves, and a failed statement must not
 * be swallowed: PostgreSQL then aborts the whole transaction, and so does Oncekey.
 */
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { LeaseLostError } from '../../core/errors/lease-lost.js';
import { StoreUnavailableError } from '../../core/errors/store-unavailable.js';
import { UnserializableResultError } from '../../core/errors/unserializable-result.js';
import { UnsupportedInputError } from '../../core/errors/unsupported-input.js';
import type { TransactionRequest, TransactionResult, TransactionWork } from '../transactional.js';
import type { InProgress, Mismatch, Replay } from '../contract.js';
import { ms, utf8 } from './rows.js';

/** What the store gives this module: its pool, statements and limits. */
export interface PgTransactionContext {
  readonly name: string;
  readonly pool: pg.Pool;
  readonly lockSql: string;
  readonly completeSql: string;
  /** Prepared statement name prefix of the store. */
  readonly prefix: string;
  readonly statementTimeoutMs: number;
  readonly queryTimeoutMs: number;
  now(): number | null;
  /** Deadline and error mapping of the store, for one call. */
  guard<T>(operation: string, call: () => Promise<T>, deadlineMs?: number): Promise<T>;
}

interface LockRow {
  ours: boolean;
  state: 'in_progress' | 'completed';
  same_fingerprint: boolean;
  attempt: number;
  expires_at: string;
  lease_until: string | null;
  outcome: Buffer | null;
  completed_at: string | null;
  now: string;
}

/** SQLSTATE lock_not_available: lock_timeout expired while another transaction held the key. */
const LOCK_NOT_AVAILABLE = '55P03';

export async function pgTransaction<T>(
  ctx: PgTransactionContext,
  request: TransactionRequest,
  work: TransactionWork<pg.PoolClient, T>,
  encode: (value: T, attempt: number) => string,
): Promise<TransactionResult<T>> {
  const { ref, leaseMs, ttlMs } = request;
  const fingerprint = utf8(request.fingerprint);
  if (!fingerprint) throw new UnsupportedInputError('fingerprint', 'contains a lone surrogate (not well-formed UTF-16)');
  // lock_timeout 0 would mean "wait forever": not waiting is 1 ms.
  const waitMs = Math.max(1, Math.floor(request.waitMs));
  const token = randomUUID();

  const connecting = ctx.pool.connect();
  let client: pg.PoolClient;
  try {
    client = await ctx.guard('transaction', () => connecting);
  } catch (error) {
    // Past our deadline the pool may still hand over a connection: give it back.
    connecting.then(
      (late) => late.release(),
      () => undefined,
    );
    throw error;
  }
  // A checked-out client has no error listener of the pool's: without ours, a connection that
  // dies while the caller's work runs would crash the process.
  const ignore = (): void => undefined;
  client.on('error', ignore);
  let broken = false;
  /** One of our statements: bounded, mapped; a failure leaves the connection unfit for reuse. */
  const ours = async <R extends pg.QueryResultRow>(operation: string, query: pg.QueryConfig): Promise<pg.QueryResult<R>> => {
    try {
      return await ctx.guard(
        operation,
        () => client.query<R>({ ...query, query_timeout: ctx.queryTimeoutMs } as pg.QueryConfig),
        ctx.queryTimeoutMs + 1000,
      );
    } catch (error) {
      if (connectionLost(error)) broken = true;
      throw error;
    }
  };
  const rollback = async (): Promise<void> => {
    if (broken) return; // the server rolls back when the connection goes
    try {
      await client.query({ text: 'ROLLBACK', query_timeout: ctx.queryTimeoutMs } as pg.QueryConfig);
    } catch {
      broken = true;
    }
  };

  try {
    // (1) Inlined integers only. The first SELECT remembers the session's timeouts.
    const [, settings] = (await ours('transaction', {
      text: `BEGIN;
        SELECT current_setting('lock_timeout') AS lock_timeout, current_setting('statement_timeout') AS statement_timeout;
        SET LOCAL lock_timeout = ${waitMs};
        SET LOCAL statement_timeout = ${waitMs + ctx.statementTimeoutMs};
        SET LOCAL idle_in_transaction_session_timeout = ${leaseMs}`,
    })) as unknown as pg.QueryResult<{ lock_timeout: string; statement_timeout: string }>[];
    const session = settings!.rows[0]!;

    // (2)
    let row: LockRow;
    try {
      const locked = await ctx.guard(
        'transaction',
        () =>
          client.query<LockRow>({
            name: `${ctx.prefix}lock`,
            text: ctx.lockSql,
            values: [ctx.now(), ref.scope, ref.key, fingerprint, token, leaseMs, ttlMs, session.lock_timeout, session.statement_timeout],
            query_timeout: waitMs + ctx.queryTimeoutMs,
          } as pg.QueryConfig),
        waitMs + ctx.queryTimeoutMs + 1000,
      );
      row = locked.rows[0]!;
    } catch (error) {
      if (isLockTimeout(error)) {
        await rollback();
        return { kind: 'locked' };
      }
      if (connectionLost(error)) broken = true;
      throw error;
    }
    if (!row.ours) {
      await rollback();
      return answer(row);
    }
    const attempt = { attempt: row.attempt, recovered: row.attempt > 1 };

    // (3) The caller's errors pass through unchanged, after the rollback.
    const value = await work(client, attempt);
    const outcome = utf8(encode(value, row.attempt));
    if (outcome === undefined) throw new UnserializableResultError('outcome', 'contains a lone surrogate (not well-formed UTF-16)');

    // (4)
    const done = await ours('transaction', {
      name: `${ctx.prefix}complete`,
      text: ctx.completeSql,
      values: [ctx.now(), ref.scope, ref.key, token, outcome, ttlMs],
    });
    if (done.rowCount !== 1) throw new LeaseLostError(ref, 'the work removed or changed the key record');

    // (5) A transaction a failed statement aborted answers COMMIT with ROLLBACK.
    const committed = await ours('transaction', { text: 'COMMIT' });
    if (committed.command !== 'COMMIT') {
      throw new StoreUnavailableError(
        ctx.name,
        `transaction on ${ref.scope}/${ref.key} was rolled back by the server (${committed.command})`,
      );
    }
    return { kind: 'committed', value, ...attempt };
  } catch (error) {
    await rollback();
    throw error;
  } finally {
    client.removeListener('error', ignore);
    client.release(broken ? true : undefined);
  }
}

/** The SQLSTATE behind a (mapped) driver error, if the server reported it (pg sets `severity`). */
function sqlState(error: unknown): string | undefined {
  const cause = (error instanceof StoreUnavailableError ? error.cause : error) as { code?: unknown; severity?: unknown } | null;
  return typeof cause?.severity === 'string' && typeof cause.code === 'string' ? cause.code : undefined;
}

const isLockTimeout = (error: unknown): boolean => sqlState(error) === LOCK_NOT_AVAILABLE;

/**
 * Whether the connection is unfit for reuse: no answer from the server (a timeout, a reset), or
 * the server ending the session. An error the server reported otherwise (say 25P02, after a
 * statement of the caller's failed) leaves it usable once rolled back.
 */
function connectionLost(error: unknown): boolean {
  const code = sqlState(error);
  return code === undefined || code.startsWith('08') || code.startsWith('57P');
}

/** The row is not ours to take: say why, as `begin` would. */
function answer(row: LockRow): Replay | Mismatch | InProgress {
  const now = ms(row.now);
  if (!row.same_fingerprint) return { kind: 'mismatch', state: row.state };
  if (row.state === 'completed') {
    return { kind: 'replay', outcome: row.outcome!.toString('utf8'), completedAt: ms(row.completed_at!), expiresAt: ms(row.expires_at) };
  }
  const leaseUntil = ms(row.lease_until!);
  return { kind: 'in_progress', attempt: row.attempt, leaseUntil, retryAfterMs: Math.max(0, leaseUntil - now) };
}
