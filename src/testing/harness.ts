/**
 * Shared pieces of the conformance suite: the fake clock, a fresh store per test, and
 * assertions phrased in terms of the contract only (no store internals).
 */
import { expect } from 'vitest';
import type { BeginOptions, BeginResult, Clock, KeyRecord, KeyRef, Store } from '../store/contract.js';
import { FakeClock } from '../core/fake-clock.js';
import { isLeaseLostError } from '../core/errors/lease-lost.js';

/** The options of `runStoreConformance` with defaults applied. */
export interface ResolvedOptions {
  create(clock: Clock): Promise<Store> | Store;
  destroy(store: Store): Promise<void> | void;
  concurrency: { keys: number; callers: number };
  modelRuns: number;
}

/** Where every fake clock starts: a fixed, realistic epoch time (2023-11-14). */
export const T0 = 1_700_000_000_000;

/** A test body that gets a fresh store on its own fake clock; the store is destroyed after. */
export function storeCase(options: ResolvedOptions, body: (store: Store, clock: FakeClock) => Promise<void>): () => Promise<void> {
  return async () => {
    const clock = new FakeClock(T0);
    const store = await options.create(clock);
    try {
      await body(store, clock);
    } finally {
      await options.destroy(store);
    }
  };
}

export const lease = (leaseMs: number, ttlMs: number): BeginOptions => ({ leaseMs, ttlMs });

export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

export async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

function describeError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** The operation must fail with LeaseLostError (any other error or a success fails the test). */
export async function expectLeaseLost(promise: Promise<unknown>, what = 'operation'): Promise<void> {
  const result = await settle(promise);
  if (result.ok) {
    expect.fail(`${what}: expected LeaseLostError, but it succeeded with ${JSON.stringify(result.value)}`);
  }
  expect(isLeaseLostError(result.error), `${what}: expected LeaseLostError, got ${describeError(result.error)}`).toBe(true);
}

/** The outcome of `begin`, narrowed to its kind or a failed test. */
export function expectKind<K extends BeginResult['kind']>(result: BeginResult, kind: K, what = 'begin'): Extract<BeginResult, { kind: K }> {
  expect(result.kind, `${what}: expected ${kind}, got ${JSON.stringify(result)}`).toBe(kind);
  return result as Extract<BeginResult, { kind: K }>;
}

export async function acquire(store: Store, ref: KeyRef, fingerprint = 'fp', options = lease(1000, 60_000)) {
  return expectKind(await store.begin(ref, fingerprint, options), 'acquired');
}

/** The contract's fields of a begin result, so stores may add extras without failing. */
export function beginFields(result: BeginResult): Record<string, unknown> {
  switch (result.kind) {
    case 'acquired':
      return {
        kind: result.kind,
        token: result.token,
        attempt: result.attempt,
        recovered: result.recovered,
        leaseUntil: result.leaseUntil,
      };
    case 'replay':
      return { kind: result.kind, outcome: result.outcome, completedAt: result.completedAt, expiresAt: result.expiresAt };
    case 'in_progress':
      return {
        kind: result.kind,
        attempt: result.attempt,
        leaseUntil: result.leaseUntil,
        retryAfterMs: result.retryAfterMs,
      };
    case 'mismatch':
      return { kind: result.kind, state: result.state };
    default:
      return { kind: (result as { kind: unknown }).kind, unknown: result };
  }
}

/**
 * The contract's fields of a record, with absent optional fields as `undefined`: an in-progress
 * record has no outcome, a completed one no token or lease.
 */
export function recordFields(record: KeyRecord | undefined): Record<string, unknown> | undefined {
  if (record === undefined) return undefined;
  return {
    scope: record.scope,
    key: record.key,
    state: record.state,
    fingerprint: record.fingerprint,
    attempt: record.attempt,
    createdAt: record.createdAt,
    expiresAt: record.expiresAt,
    token: record.token ?? undefined,
    leaseUntil: record.leaseUntil ?? undefined,
    outcome: record.outcome ?? undefined,
    completedAt: record.completedAt ?? undefined,
  };
}

/** Follows `cursor` until the store says there is no more; checks each page's size. */
export async function listAll(store: Store, scope: string, state?: 'in_progress' | 'completed', limit?: number): Promise<KeyRecord[]> {
  const all: KeyRecord[] = [];
  let cursor: string | undefined;
  // A store may return short or empty pages, but not forever.
  for (let pages = 0; pages < 10_000; pages++) {
    const page = await store.list({ scope, ...(state ? { state } : {}), ...(limit ? { limit } : {}), ...(cursor ? { cursor } : {}) });
    expect(page.records.length, `a page holds at most limit (${limit ?? 100}) records`).toBeLessThanOrEqual(limit ?? 100);
    all.push(...page.records);
    if (page.cursor === undefined) return all;
    expect(typeof page.cursor, 'cursor is a string').toBe('string');
    cursor = page.cursor;
  }
  return expect.fail(`list(${JSON.stringify(scope)}) kept returning a cursor for 10 000 pages`);
}

/** Strict string equality with a readable message for huge strings. */
export function expectSameString(actual: unknown, expected: string, what: string): void {
  if (actual === expected) return;
  const detail =
    typeof actual !== 'string'
      ? `got ${typeof actual}`
      : `lengths ${actual.length} vs ${expected.length}, first difference at ${firstDifference(actual, expected)}`;
  expect.fail(`${what}: the string did not round-trip exactly (${detail})`);
}

function firstDifference(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

/** Order by UTF-8 bytes, which is Unicode code point order: the order `list` must use. */
export function compareUtf8(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
