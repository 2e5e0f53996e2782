/**
 * Circuit breaker state in PostgreSQL: one row per breaker in a small table, changed by one
 * conditional statement (`UPDATE … WHERE version = $expected`, or `INSERT … ON CONFLICT DO
 * NOTHING` for the first write): atomic without holding a lock across round trips.
 *
 * ```ts
 * const state = postgresBreakerState({ pool, name: 'payments-api' });
 * await state.migrate(); // once, at deploy time: CREATE TABLE IF NOT EXISTS
 * const breaker = circuitBreaker({ store: state, halfOpenAfterMs: 10_000 });
 * ```
 *
 * Times in the snapshot come from each instance's breaker clock (see `redisBreakerState`). No
 * `pg` import: any pool or client with pg's `query(text, values)` works.
 */
import { identifier, quote } from '../../core/identifiers.js';
import { checkFactoryOptions } from './factory.js';
import {
  SharedBreakerState,
  type BreakerStateBackend,
  type CommitAnswer,
  type SharedBreakerStateOptions,
  type VersionedSnapshot,
} from './shared-state.js';

/** The part of a `pg` Pool (or Client) this needs. */
export interface PgQueryable {
  query(text: string, values?: unknown[]): Promise<{ rows: unknown[] }>;
}

export interface PostgresBreakerStateOptions extends SharedBreakerStateOptions {
  /**
   * A pool you own (never ended here). Give it a `statement_timeout`, a `connectionTimeoutMillis`
   * and an `error` listener; `timeoutMs` bounds every call anyway.
   */
  readonly pool: PgQueryable;
  /** The breaker's row; breakers that share a circuit share a name. */
  readonly name: string;
  /** Default `public`. Lower-case identifier. */
  readonly schema?: string;
  /** Default `oncekey_breakers`. Lower-case identifier. */
  readonly table?: string;
}

interface Row {
  version: string;
  snapshot: string;
}

class PostgresBackend implements BreakerStateBackend {
  readonly name = 'postgres';
  readonly #select: string;
  readonly #insert: string;
  readonly #update: string;

  constructor(
    private readonly pool: PgQueryable,
    private readonly row: string,
    target: string,
  ) {
    this.#select = `SELECT version, snapshot FROM ${target} WHERE name = $1`;
    this.#insert = `INSERT INTO ${target} (name, version, snapshot) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING version`;
    this.#update = `UPDATE ${target} SET version = $3, snapshot = $4, updated_at = now() WHERE name = $1 AND version = $2 RETURNING version`;
  }

  async read(): Promise<VersionedSnapshot> {
    const { rows } = await this.pool.query(this.#select, [this.row]);
    const row = rows[0] as Row | undefined;
    return row === undefined ? { version: '', json: '' } : { version: row.version, json: row.snapshot };
  }

  async commit(expected: string, write: VersionedSnapshot | undefined): Promise<CommitAnswer> {
    if (write === undefined) {
      const current = await this.read();
      return current.version === expected ? { ok: true } : { ok: false, current };
    }
    const { rows } =
      expected === ''
        ? await this.pool.query(this.#insert, [this.row, write.version, write.json])
        : await this.pool.query(this.#update, [this.row, expected, write.version, write.json]);
    if (rows.length === 1) return { ok: true };
    return { ok: false, current: await this.read() };
  }
}

/** A {@link SharedBreakerState} on PostgreSQL, with `migrate()` to create its table. */
export class PostgresBreakerState extends SharedBreakerState {
  readonly #pool: PgQueryable;
  /** `"schema"."table"`. */
  readonly target: string;

  constructor(options: PostgresBreakerStateOptions) {
    const pool = { option: 'pool', kind: 'a pg Pool or Client', methods: ['query'] } as const;
    const shared = checkFactoryOptions('postgresBreakerState', options, ['pool', 'name', 'schema', 'table'], pool, 'name');
    const schema = identifier('postgresBreakerState.schema', options.schema ?? 'public');
    const table = identifier('postgresBreakerState.table', options.table ?? 'oncekey_breakers');
    const target = `${quote(schema)}.${quote(table)}`;
    super(new PostgresBackend(options.pool, options.name, target), shared, 'postgresBreakerState');
    this.#pool = options.pool;
    this.target = target;
  }

  /**
   * Create the table if it does not exist. Idempotent, and safe to run from several instances at
   * once (PostgreSQL's `IF NOT EXISTS` can still lose a race on the catalog; that loss is ignored).
   * The snapshot is `text`, not `jsonb`: compare-and-set compares it byte for byte.
   */
  async migrate(): Promise<void> {
    try {
      await this.#pool.query(
        `CREATE TABLE IF NOT EXISTS ${this.target} (
          name text PRIMARY KEY,
          version text NOT NULL,
          snapshot text NOT NULL,
          updated_at timestamptz NOT NULL DEFAULT now()
        )`,
      );
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code;
      if (code !== '23505' && code !== '42P07') throw error;
    }
  }
}

/** Breaker state shared through PostgreSQL; pass it as the `store` option of `circuitBreaker`. */
export const postgresBreakerState = (options: PostgresBreakerStateOptions): PostgresBreakerState => new PostgresBreakerState(options);
