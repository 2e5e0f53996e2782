/**
 * `oncekey/postgres`: the PostgreSQL store, on `pg` (an optional peer dependency imported only
 * here). One table per store, created by an explicit, idempotent, versioned {@link PostgresStore.migrate}.
 *
 * ```ts
 * const store = postgresStore({ connectionString: process.env.DATABASE_URL });
 * await store.migrate();
 * ```
 *
 * Guarantees: each operation is one statement (one round trip, atomic); leases and expiry are
 * judged on the database server's clock unless a `clock` is injected; a completed record is
 * durable once `commit` resolves under PostgreSQL's default `synchronous_commit = on` (with
 * `off`, a server crash may lose the last commits and the key may then run again).
 *
 * When the server is unreachable, slow or restarting, every call fails within its deadline with
 * {@link StoreUnavailableError} (fail closed), never a raw driver error and never a hang. The
 * pool reconnects on its own once the server is back.
 */
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import type { BeginOptions, BeginResult, Clock, KeyRecord, KeyRef, ListOptions, ListPage, Store, SweepOptions } from '../contract.js';
import { LeaseLostError } from '../../core/errors/lease-lost.js';
import { InvalidOptionError } from '../../core/errors/invalid-option.js';
import { StoreUnavailableError } from '../../core/errors/store-unavailable.js';
import { UnserializableResultError } from '../../core/errors/unserializable-result.js';
import { UnsupportedInputError } from '../../core/errors/unsupported-input.js';
import { assertKnownOptions, positiveInt } from '../../core/options.js';
import { encodeCursor } from '../cursor.js';
import { beginOptions, clockOption, commitTtl, extendLease, listQuery, sweepOptions, transactionRequest } from '../kit.js';
import { identifier, quote } from '../../core/identifiers.js';
import { migrate, SCHEMA_VERSION, type MigrationResult } from './migrate.js';
import { ms, rowToRecord, utf8, type KeyRow } from './rows.js';
import { statements, type Statements } from './sql.js';
import { poolEndpoint, storeError } from './errors.js';
import { Deadlines } from '../deadlines.js';
import { pgTransaction, type PgTransactionContext } from './transaction.js';
import type { TransactionalStore, TransactionRequest, TransactionResult, TransactionWork } from '../transactional.js';

export { SCHEMA_VERSION, type MigrationResult };

export interface PostgresStoreOptions {
  /**
   * A pool you own: the store never ends it. Give it a `statement_timeout`, a `query_timeout`
   * (else the store sets one on each of its queries) and an `error` listener.
   */
  readonly pool?: pg.Pool;
  /** Or a connection string: the store creates (and on `close`, ends) its own pool. */
  readonly connectionString?: string;
  /** Schema of the key table, default `public`. Lower-case identifier. */
  readonly schema?: string;
  /** Name of the key table, default `oncekey_keys`. Lower-case identifier. */
  readonly table?: string;
  /** Judge time by this clock instead of the database server's (for tests). */
  readonly clock?: Clock;
  /** Server-side limit per statement, default 5000 ms. */
  readonly statementTimeoutMs?: number;
  /** Limit on getting a connection (from the pool, or a new one), default 5000 ms. */
  readonly connectionTimeoutMs?: number;
  /** Size of the pool the store creates, default 10. Ignored with `pool`. */
  readonly maxConnections?: number;
}

const KNOWN = [
  'pool',
  'connectionString',
  'schema',
  'table',
  'clock',
  'statementTimeoutMs',
  'connectionTimeoutMs',
  'maxConnections',
] as const;

/**
 * The answer of the `<table>_begin2` function (see migrate.ts for its forms), or undefined when
 * it is not one of them.
 */
function beginAnswer(text: string, token: string): BeginResult | undefined {
  const kind = text[0];
  if (kind === 'm') {
    const state = text.slice(1);
    return state === 'in_progress' || state === 'completed' ? { kind: 'mismatch', state } : undefined;
  }
  const first = text.indexOf(',');
  const second = text.indexOf(',', first + 1);
  const a = Number(text.slice(1, first));
  if (first < 2 || !Number.isSafeInteger(a)) return undefined;
  if (kind === 'a') {
    const leaseUntil = Number(text.slice(first + 1));
    return second === -1 && Number.isSafeInteger(leaseUntil)
      ? { kind: 'acquired', token, attempt: a, recovered: a > 1, leaseUntil }
      : undefined;
  }
  const b = Number(text.slice(first + 1, second));
  if (second === -1 || !Number.isSafeInteger(b)) return undefined;
  if (kind === 'r') {
    // encode(…, 'base64') breaks lines every 76 characters; Buffer skips the newlines.
    const outcome = Buffer.from(text.slice(second + 1), 'base64').toString('utf8');
    return { kind: 'replay', outcome, completedAt: a, expiresAt: b };
  }
  const now = Number(text.slice(second + 1));
  if (kind === 'p' && Number.isSafeInteger(now) && b > now) {
    return { kind: 'in_progress', attempt: a, leaseUntil: b, retryAfterMs: b - now };
  }
  return undefined;
}

/** The PostgreSQL store. Create it with {@link postgresStore}. */
export class PostgresStore implements Store, TransactionalStore<pg.PoolClient> {
  readonly name = 'postgres';
  readonly schema: string;
  readonly table: string;
  /** `"schema"."table"`, for messages. */
  readonly target: string;
  private readonly pool: pg.Pool;
  private readonly ownsPool: boolean;
  /** Where the pool connects, for messages (password hidden). */
  private readonly endpoint: string;
  /** The store must bound each query itself: the pool has no query_timeout of its own. */
  private readonly timeoutPerQuery: boolean;
  private readonly sql: Statements;
  private readonly prefix: string;
  private readonly clock: Clock | undefined;
  private readonly statementTimeoutMs: number;
  private readonly queryTimeoutMs: number;
  private readonly deadlineMs: number;
  private readonly deadlines = new Deadlines({
    timeout: (operation, ms) => new StoreUnavailableError(this.name, `${operation}: no answer within ${ms} ms`),
    failure: (operation, error) => storeError(this.name, operation, error, this.target, this.endpoint),
  });
  private closed = false;

  constructor(options: PostgresStoreOptions = {}) {
    assertKnownOptions('postgresStore', options, KNOWN);
    if (options.pool && options.connectionString !== undefined) {
      throw new InvalidOptionError('postgresStore.pool', 'give either pool or connectionString, not both');
    }
    this.schema = identifier('postgresStore.schema', options.schema ?? 'public');
    this.table = identifier('postgresStore.table', options.table ?? 'oncekey_keys');
    this.target = `${quote(this.schema)}.${quote(this.table)}`;
    this.statementTimeoutMs = positiveInt('postgresStore.statementTimeoutMs', options.statementTimeoutMs ?? 5000);
    const connectionTimeoutMs = positiveInt('postgresStore.connectionTimeoutMs', options.connectionTimeoutMs ?? 5000);
    const max = positiveInt('postgresStore.maxConnections', options.maxConnections ?? 10);
    this.clock = clockOption('postgresStore', options.clock);
    // The server cancels a slow statement first (a clean error, the connection stays usable);
    // the client-side timeout catches a server that does not answer at all (the connection is
    // then destroyed). With a pool passed in, whose settings we do not know, a deadline of ours
    // also bounds each call, waiting for a pooled connection included.
    this.queryTimeoutMs = this.statementTimeoutMs + 1000;
    this.deadlineMs = connectionTimeoutMs + this.queryTimeoutMs + 1000;
    this.sql = statements(this.schema, this.table);
    // Prepared statement names are cut at 63 bytes by the server: hash the table into them.
    this.prefix = `oncekey_${createHash('sha256').update(this.target).digest('hex').slice(0, 12)}_`;
    if (options.pool) {
      this.pool = options.pool;
      this.ownsPool = false;
      const own = (options.pool as { options?: { query_timeout?: unknown } }).options?.query_timeout;
      this.timeoutPerQuery = !(typeof own === 'number' && own > 0);
    } else {
      this.timeoutPerQuery = false;
      this.pool = new pg.Pool({
        connectionString: options.connectionString,
        max,
        connectionTimeoutMillis: connectionTimeoutMs,
        statement_timeout: this.statementTimeoutMs,
        query_timeout: this.queryTimeoutMs,
        idle_in_transaction_session_timeout: Math.max(this.statementTimeoutMs * 2, 10_000),
        keepAlive: true,
        application_name: 'oncekey',
        allowExitOnIdle: true,
      });
      // An idle connection that the server drops emits `error` on the pool; unhandled, that
      // would crash the process. The pool already discards the connection; the next call
      // opens a new one or fails with StoreUnavailableError.
      this.pool.on('error', () => undefined);
      this.ownsPool = true;
    }
    this.endpoint = poolEndpoint((this.pool as { options?: Parameters<typeof poolEndpoint>[0] }).options);
  }

  /**
   * Create or upgrade the key table. Idempotent and safe to run from several processes at once
   * (advisory lock). Run it at deploy time, or once at start-up, before the first `begin`.
   */
  async migrate(): Promise<MigrationResult> {
    return this.guard(
      'migrate',
      async () => {
        const client = await this.pool.connect();
        try {
          const result = await migrate(client, this.schema, this.table, this.statementTimeoutMs);
          client.release();
          return result;
        } catch (error) {
          client.release(error instanceof Error ? error : true);
          throw error;
        }
      },
      this.deadlineMs * 3,
    );
  }

  // begin and commit are plain functions returning one promise chain, not async functions: they
  // are the hot path, and every extra promise shows in the throughput (measured).
  begin(ref: KeyRef, fingerprint: string, options: BeginOptions): Promise<BeginResult> {
    let token: string;
    let values: unknown[];
    try {
      const { leaseMs, ttlMs } = beginOptions(options);
      const fingerprintBytes = utf8(fingerprint);
      if (!fingerprintBytes) throw new UnsupportedInputError('fingerprint', 'contains a lone surrogate (not well-formed UTF-16)');
      token = randomUUID();
      values = [this.now(), ref.scope, ref.key, fingerprintBytes, token, leaseMs, ttlMs];
    } catch (error) {
      return Promise.reject(error);
    }
    return this.query('begin', values, (result: pg.QueryResult<{ r: string }>) => {
      const text = result.rows[0]?.r;
      const answer = typeof text === 'string' ? beginAnswer(text, token) : undefined;
      if (!answer)
        throw new StoreUnavailableError(this.name, `begin on ${ref.scope}/${ref.key}: unexpected answer ${JSON.stringify(text)}`);
      return answer;
    });
  }

  commit(ref: KeyRef, token: string, outcome: string, ttlMs: number): Promise<void> {
    let bytes: Buffer | undefined;
    try {
      commitTtl(ttlMs);
      bytes = utf8(outcome);
      if (!bytes) throw new UnserializableResultError('outcome', 'contains a lone surrogate (not well-formed UTF-16)');
    } catch (error) {
      return Promise.reject(error);
    }
    return this.query('commit', [this.now(), ref.scope, ref.key, token, bytes, ttlMs], (result) => {
      if (result.rowCount !== 1) throw new LeaseLostError(ref);
    });
  }

  async release(ref: KeyRef, token: string): Promise<void> {
    const { rowCount } = await this.query('release', [this.now(), ref.scope, ref.key, token]);
    if (rowCount !== 1) throw new LeaseLostError(ref);
  }

  async extend(ref: KeyRef, token: string, leaseMs: number): Promise<number> {
    extendLease(leaseMs);
    const { rows } = await this.query<{ lease_until: string }>('extend', [this.now(), ref.scope, ref.key, token, leaseMs]);
    if (!rows[0]) throw new LeaseLostError(ref);
    return ms(rows[0].lease_until);
  }

  async get(ref: KeyRef): Promise<KeyRecord | undefined> {
    const { rows } = await this.query<KeyRow>('get', [this.now(), ref.scope, ref.key]);
    return rows[0] && rowToRecord(rows[0]);
  }

  async delete(ref: KeyRef): Promise<boolean> {
    const { rows } = await this.query<{ live: boolean }>('delete', [this.now(), ref.scope, ref.key]);
    return rows[0]?.live === true;
  }

  async list(options: ListOptions): Promise<ListPage> {
    const { scope, state, after, limit } = listQuery(options);
    const { rows } = await this.query<KeyRow>('list', [this.now(), scope, state ?? null, after ?? null, limit + 1]);
    const records = rows.slice(0, limit).map(rowToRecord);
    return rows.length > limit ? { records, cursor: encodeCursor(records[records.length - 1]!.key) } : { records };
  }

  async sweep(options?: SweepOptions): Promise<number> {
    const { batchSize, maxBatches } = sweepOptions(options);
    let removed = 0;
    let upto: string | null = null;
    for (let batch = 0; batch < maxBatches; batch++) {
      const result: pg.QueryResult<{ removed: number; upto: string | null }> = await this.query('sweep', [this.now(), batchSize, upto]);
      const done = result.rows[0]?.removed ?? 0;
      removed += done;
      if (done < batchSize) break;
      upto = result.rows[0]!.upto;
    }
    return removed;
  }

  /**
   * Transactional mode (see `oncekey` `Oncekey.transaction` and src/store/transactional.ts):
   * `work` gets the `pg` PoolClient inside the transaction that holds the key's row; its writes
   * and the completed record commit together or not at all.
   */
  async transaction<T>(
    request: TransactionRequest,
    work: TransactionWork<pg.PoolClient, T>,
    encode: (value: T, attempt: number) => string,
  ): Promise<TransactionResult<T>> {
    transactionRequest(request);
    const context: PgTransactionContext = {
      name: this.name,
      pool: this.pool,
      lockSql: this.sql.lock,
      completeSql: this.sql.complete,
      prefix: this.prefix,
      statementTimeoutMs: this.statementTimeoutMs,
      queryTimeoutMs: this.queryTimeoutMs,
      now: () => this.now(),
      guard: (operation, call, deadlineMs) => this.guard(operation, call, deadlineMs),
    };
    return pgTransaction(context, request, work, encode);
  }

  async ping(): Promise<void> {
    await this.guard('ping', () => this.pool.query({ text: 'SELECT 1', query_timeout: this.queryTimeoutMs } as pg.QueryConfig));
  }

  /** Ends the pool if the store created it; a pool you passed in stays yours to end. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.ownsPool && !this.pool.ended) await this.pool.end();
  }

  private now(): number | null {
    return this.clock ? Math.floor(this.clock.now()) : null;
  }

  /** Run the statement of `operation`; its result goes through `map` (which may throw an Oncekey error). */
  private query<R extends pg.QueryResultRow = pg.QueryResultRow, T = pg.QueryResult<R>>(
    operation: keyof Statements,
    values: unknown[],
    map?: (result: pg.QueryResult<R>) => T,
  ): Promise<T> {
    // The pool the store created has query_timeout in its own settings; a pool passed in without
    // one gets it per query, so a connection stuck on a silent server is freed, not kept forever.
    const config: pg.QueryConfig = { name: this.prefix + operation, text: this.sql[operation], values };
    if (this.timeoutPerQuery) (config as { query_timeout?: number }).query_timeout = this.queryTimeoutMs;
    return this.guard(operation, () => this.pool.query<R>(config), this.deadlineMs, map);
  }

  /**
   * Every driver call goes through here: a deadline, and only Oncekey errors out. The pool the
   * store created bounds every call itself (connectionTimeoutMillis, query_timeout), so only a
   * pool passed in, whose settings we do not know, needs a deadline of ours. One promise chain
   * per call, not an async function: this wraps every call on the hot path.
   */
  private guard<R, T = R>(operation: string, call: () => Promise<R>, deadlineMs = this.deadlineMs, map?: (value: R) => T): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError(this.name, `${operation}: the store is closed`));
    let pending: Promise<R>;
    try {
      pending = call();
    } catch (error) {
      return Promise.reject(storeError(this.name, operation, error, this.target, this.endpoint));
    }
    if (this.ownsPool) {
      return pending.then(map as (value: R) => T, (error: unknown) => {
        throw storeError(this.name, operation, error, this.target, this.endpoint);
      });
    }
    return this.deadlines.bound(pending, deadlineMs, operation, map);
  }
}

/** Create a PostgreSQL store. Call `migrate()` once before use. */
export function postgresStore(options: PostgresStoreOptions = {}): PostgresStore {
  return new PostgresStore(options);
}
