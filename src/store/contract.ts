/**
 * The store contract: every Oncekey store (memory, SQLite, PostgreSQL, Redis, or yours)
 * implements {@link Store} and passes the shared conformance suite in `oncekey/testing`.
 *
 * A record is identified by `(scope, key)` and moves through this state machine
 * (see DESIGN.md):
 *
 * ```
 *  absent ──begin──▶ in_progress{token, leaseUntil, attempt}
 *  in_progress ──commit(token)──▶ completed{outcome, expiresAt}
 *  in_progress ──release(token)──▶ absent                (failure that may be retried)
 *  in_progress, lease expired ──begin──▶ in_progress{new token, attempt+1, recovered}
 *  completed or in_progress, expired ──▶ absent           (sweep removes it)
 * ```
 *
 * Time rules, identical in every store (all times are milliseconds since the epoch, judged
 * by the store's clock — the injected {@link TimerClock}, or the database server's clock):
 * - a lease is live while `now < leaseUntil`;
 * - a record exists while `now < expiresAt`; at or after it the record is absent for every
 *   operation, even before `sweep` physically removes it;
 * - `begin` on an absent key sets `expiresAt = now + ttlMs`; `commit` sets `expiresAt = now + ttlMs`;
 *   `extend` sets `leaseUntil = now + leaseMs` and raises `expiresAt` to at least `leaseUntil`.
 *
 * Fencing: `commit`, `release` and `extend` succeed only while the token is the record's current
 * token and the record is `in_progress` (a holder whose lease expired but was not yet taken over
 * still holds the current token and may commit). Otherwise they throw {@link LeaseLostError}.
 */
import type { LeaseLostError } from '../core/errors/lease-lost.js';
import type { KeyRef } from '../core/ref.js';

// The contract speaks of these; they live in core, below every layer.
export type { KeyRef } from '../core/ref.js';
export type { Clock } from '../core/time.js';

export type RecordState = 'in_progress' | 'completed';

/** A record as `get` and `list` return it. */
export interface KeyRecord {
  readonly scope: string;
  readonly key: string;
  readonly state: RecordState;
  /** Hex SHA-256 (or any string) of the request that created the record. */
  readonly fingerprint: string;
  /** 1 on the first `begin`; raised by one at each take-over of an expired lease. */
  readonly attempt: number;
  readonly createdAt: number;
  /** When the record stops existing (retention). */
  readonly expiresAt: number;
  /** Set while `in_progress`: the current fencing token. */
  readonly token?: string;
  /** Set while `in_progress`: the lease deadline. */
  readonly leaseUntil?: number;
  /** Set once `completed`: the stored outcome, opaque to the store. */
  readonly outcome?: string;
  /** Set once `completed`. */
  readonly completedAt?: number;
}

export interface BeginOptions {
  /** How long the caller may hold the key before another `begin` may take it over. */
  readonly leaseMs: number;
  /** How long the record is retained (must be >= leaseMs). */
  readonly ttlMs: number;
}

/** The caller now holds the key and must `commit` or `release` it with `token`. */
export interface Acquired {
  readonly kind: 'acquired';
  readonly token: string;
  readonly attempt: number;
  /** True when an expired lease of an earlier holder was taken over. */
  readonly recovered: boolean;
  readonly leaseUntil: number;
}

/** The key completed earlier: here is its outcome. */
export interface Replay {
  readonly kind: 'replay';
  readonly outcome: string;
  readonly completedAt: number;
  readonly expiresAt: number;
}

/** Someone holds a live lease on the key. */
export interface InProgress {
  readonly kind: 'in_progress';
  readonly attempt: number;
  readonly leaseUntil: number;
  /** `leaseUntil - now`: how long until the lease could be taken over. */
  readonly retryAfterMs: number;
}

/** The key exists with a different fingerprint. Checked before anything else. */
export interface Mismatch {
  readonly kind: 'mismatch';
  readonly state: RecordState;
}

export type BeginResult = Acquired | Replay | InProgress | Mismatch;

export interface ListOptions {
  readonly scope: string;
  readonly state?: RecordState;
  /** Opaque cursor from a previous page's `cursor`. */
  readonly cursor?: string;
  /** Page size, default 100, at most 1000. */
  readonly limit?: number;
}

export interface ListPage {
  readonly records: KeyRecord[];
  /** Present when there may be more records; pass it back to get the next page. */
  readonly cursor?: string;
}

export interface SweepOptions {
  /** Records removed per batch (each batch is one short transaction), default 500. */
  readonly batchSize?: number;
  /** Stop after this many batches, default unlimited. */
  readonly maxBatches?: number;
}

/**
 * A store of key records. Every method is atomic on its own; `begin` is the one step that
 * decides who runs. Stores throw {@link StoreUnavailableError} when their backend cannot be
 * reached, never a raw driver error.
 */
export interface Store {
  /** A short name for logs and metrics, e.g. `sqlite`. */
  readonly name: string;
  /**
   * Atomically: mismatch if a live record has another fingerprint; replay if completed;
   * in_progress if the lease is live; acquired (recovered) if the lease expired; acquired if absent.
   */
  begin(ref: KeyRef, fingerprint: string, options: BeginOptions): Promise<BeginResult>;
  /** Store the outcome and retain it for `ttlMs`. Fenced by `token`. */
  commit(ref: KeyRef, token: string, outcome: string, ttlMs: number): Promise<void>;
  /** Remove the record so the key may run again. Fenced by `token`. */
  release(ref: KeyRef, token: string): Promise<void>;
  /** Renew the lease for `leaseMs` from now. Fenced by `token`. Returns the new `leaseUntil`. */
  extend(ref: KeyRef, token: string, leaseMs: number): Promise<number>;
  /** The live record, or undefined when absent or expired. */
  get(ref: KeyRef): Promise<KeyRecord | undefined>;
  /** Remove a record whatever its state. Returns whether a live record was removed. */
  delete(ref: KeyRef): Promise<boolean>;
  /** Live records of one scope, ordered by key, paged. */
  list(options: ListOptions): Promise<ListPage>;
  /** Physically remove expired records in bounded batches. Returns how many were removed. */
  sweep(options?: SweepOptions): Promise<number>;
  /** Cheap round trip to check the backend is reachable. */
  ping(): Promise<void>;
  /** Release connections and handles. */
  close(): Promise<void>;
}

export type { LeaseLostError };
