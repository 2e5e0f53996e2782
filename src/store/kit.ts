/**
 * The contract's checks and shapes, written once for every store: arguments are validated here
 * (a bad one is an InvalidOptionError naming it, the same in every store), and records take their
 * shape here. Stores call these first, before touching their backend.
 */
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { assertKnownOptions, positiveInt } from '../core/options.js';
import type { Clock } from '../core/time.js';
import type { BeginOptions, KeyRecord, ListOptions, RecordState, SweepOptions } from './contract.js';
import { decodeCursor } from './cursor.js';
import type { TransactionRequest } from './transactional.js';

/** `list` pages: 100 records unless asked, never more than 1,000. */
export const PAGE = { default: 100, max: 1000 } as const;
/** Records one `sweep` batch removes unless asked: one short transaction each. */
export const SWEEP_BATCH = 500;

const STATES: readonly RecordState[] = ['in_progress', 'completed'];

function object(context: string, value: unknown): void {
  if (value === null || typeof value !== 'object') {
    throw new InvalidOptionError(context, `expected an options object, got ${value === null ? 'null' : typeof value}`);
  }
}

/** `begin`'s lease and retention: positive integers, and the record outlives its lease. */
export function beginOptions(options: BeginOptions): { readonly leaseMs: number; readonly ttlMs: number } {
  object('begin', options);
  const leaseMs = positiveInt('begin.leaseMs', options.leaseMs);
  const ttlMs = positiveInt('begin.ttlMs', options.ttlMs);
  if (ttlMs < leaseMs) throw new InvalidOptionError('begin.ttlMs', `must be >= leaseMs (${leaseMs}), got ${ttlMs}`);
  return { leaseMs, ttlMs };
}

/** A transactional call's lease, retention and wait (see ./transactional.ts). */
export function transactionRequest(request: TransactionRequest): {
  readonly leaseMs: number;
  readonly ttlMs: number;
  readonly waitMs: number;
} {
  object('transaction', request);
  const leaseMs = positiveInt('transaction.leaseMs', request.leaseMs);
  const ttlMs = positiveInt('transaction.ttlMs', request.ttlMs);
  const { waitMs } = request;
  if (typeof waitMs !== 'number' || !(waitMs >= 0) || !Number.isFinite(waitMs)) {
    throw new InvalidOptionError('transaction.waitMs', `expected a finite number >= 0, got ${String(waitMs)}`);
  }
  return { leaseMs, ttlMs, waitMs };
}

/** `commit`'s retention. */
export const commitTtl = (ttlMs: number): number => positiveInt('commit.ttlMs', ttlMs);

/** `extend`'s new lease. */
export const extendLease = (leaseMs: number): number => positiveInt('extend.leaseMs', leaseMs);

export interface ListQuery {
  readonly scope: string;
  readonly state: RecordState | undefined;
  /** The key the page starts after (decoded cursor). */
  readonly after: string | undefined;
  readonly limit: number;
}

/** `list`'s options, checked: a scope, a known state, a page size up to {@link PAGE}.max, a cursor of ours. */
export function listQuery(options: ListOptions): ListQuery {
  object('list', options);
  assertKnownOptions('list', options, ['scope', 'state', 'cursor', 'limit']);
  if (typeof options.scope !== 'string') throw new InvalidOptionError('list.scope', `expected a string, got ${typeof options.scope}`);
  if (options.state !== undefined && !STATES.includes(options.state)) {
    throw new InvalidOptionError('list.state', `expected ${STATES.join(' or ')}, got ${JSON.stringify(options.state)}`);
  }
  return {
    scope: options.scope,
    state: options.state,
    after: options.cursor === undefined ? undefined : decodeCursor(options.cursor),
    limit: options.limit === undefined ? PAGE.default : Math.min(positiveInt('list.limit', options.limit), PAGE.max),
  };
}

/** `sweep`'s batch size and batch count (unlimited unless asked). */
export function sweepOptions(options: SweepOptions | undefined): { readonly batchSize: number; readonly maxBatches: number } {
  assertKnownOptions('sweep', options, ['batchSize', 'maxBatches']);
  return {
    batchSize: options?.batchSize === undefined ? SWEEP_BATCH : positiveInt('sweep.batchSize', options.batchSize),
    maxBatches: options?.maxBatches === undefined ? Infinity : positiveInt('sweep.maxBatches', options.maxBatches),
  };
}

/** A store's `clock` option: undefined (the store's own time), or an object with `now()`. */
export function clockOption(context: string, clock: unknown): Clock | undefined {
  if (clock === undefined) return undefined;
  if (clock === null || typeof clock !== 'object' || typeof (clock as Clock).now !== 'function') {
    throw new InvalidOptionError(`${context}.clock`, 'expected an object with a now() method');
  }
  return clock as Clock;
}

/** Every field a store knows of a record, whatever its state. */
export interface RecordParts {
  readonly scope: string;
  readonly key: string;
  readonly state: RecordState;
  readonly fingerprint: string;
  readonly attempt: number;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly token?: string | null | undefined;
  readonly leaseUntil?: number | null | undefined;
  readonly outcome?: string | null | undefined;
  readonly completedAt?: number | null | undefined;
}

/** The record `get` and `list` answer: the common fields, plus those of its state only. */
export function toRecord(r: RecordParts): KeyRecord {
  const base = {
    scope: r.scope,
    key: r.key,
    state: r.state,
    fingerprint: r.fingerprint,
    attempt: r.attempt,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
  };
  return r.state === 'in_progress'
    ? { ...base, token: r.token!, leaseUntil: r.leaseUntil! }
    : { ...base, outcome: r.outcome!, completedAt: r.completedAt! };
}
