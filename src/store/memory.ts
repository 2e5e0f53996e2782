/**
 * `memoryStore()`: the Store contract in one process's memory, for tests and single-process use.
 *
 * It is bounded: when `maxRecords` are held and a new key arrives, it evicts an expired record
 * (oldest expiry first), else the oldest completed record. Evicting a completed record loses that
 * key's replay — a retry of it would run again — which is why this store is for tests and single
 * processes, and why `onEvict` tells you when it happens. In-progress records are never evicted;
 * when nothing can go, `begin` throws {@link StoreFullError}.
 */
import { randomUUID } from 'node:crypto';
import type {
  BeginOptions,
  BeginResult,
  Clock,
  KeyRecord,
  KeyRef,
  ListOptions,
  ListPage,
  RecordState,
  Store,
  SweepOptions,
} from './contract.js';
import { systemClock } from '../core/time.js';
import { LeaseLostError } from '../core/errors/lease-lost.js';
import { StoreFullError } from '../core/errors/store-full.js';
import { StoreUnavailableError } from '../core/errors/store-unavailable.js';
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { assertKnownOptions, positiveInt } from '../core/options.js';
import { encodeCursor } from './cursor.js';
import { beginOptions, clockOption, commitTtl, extendLease, listQuery, sweepOptions, toRecord } from './kit.js';
import { compareCodePoints } from './order.js';

export type EvictReason = 'expired' | 'completed';

export interface MemoryStoreOptions {
  /** Source of time; default the system clock. */
  readonly clock?: Clock;
  /** Most records held at once, expired ones included until evicted or swept; default 10 000. */
  readonly maxRecords?: number;
  /**
   * Called when a record is evicted to make room: `'expired'` is harmless, `'completed'` means
   * that key's replay is lost. Not called for `sweep`, `delete` or `release`.
   */
  readonly onEvict?: (ref: KeyRef, reason: EvictReason) => void;
}

const KNOWN_OPTIONS = ['clock', 'maxRecords', 'onEvict'] as const;
const DEFAULT_MAX_RECORDS = 10_000;

/** The mutable record behind a key; callers only ever see copies. */
interface Entry {
  readonly scope: string;
  readonly key: string;
  state: RecordState;
  readonly fingerprint: string;
  attempt: number;
  readonly createdAt: number;
  expiresAt: number;
  token: string | undefined;
  leaseUntil: number | undefined;
  outcome: string | undefined;
  completedAt: number | undefined;
  /** Position in the expiry heap; -1 once removed. */
  heapIndex: number;
  /** Neighbours in the completion-order list (completed records only). */
  olderDone: Entry | undefined;
  newerDone: Entry | undefined;
}

/** A record in memory; see the module comment for the eviction rules. */
export function memoryStore(options?: MemoryStoreOptions): Store {
  assertKnownOptions('memoryStore', options, KNOWN_OPTIONS);
  const clock = clockOption('memoryStore', options?.clock) ?? systemClock;
  const maxRecords = options?.maxRecords === undefined ? DEFAULT_MAX_RECORDS : positiveInt('memoryStore.maxRecords', options.maxRecords);
  const onEvict = options?.onEvict;
  if (onEvict !== undefined && typeof onEvict !== 'function') {
    throw new InvalidOptionError('memoryStore.onEvict', 'expected a function');
  }

  const scopes = new Map<string, Map<string, Entry>>();
  let size = 0;
  // Completed records in the order they completed, linked through the entries (O(1) to add,
  // remove and find the oldest, which is the one to evict).
  const completed = new CompletionList();
  // Every record by its current expiresAt, smallest first, so eviction and sweep cost what they
  // remove.
  const expiries = new ExpiryHeap();
  let closed = false;

  const find = (ref: KeyRef): Entry | undefined => scopes.get(ref.scope)?.get(ref.key);

  function remove(e: Entry): void {
    const keys = scopes.get(e.scope);
    if (keys?.get(e.key) !== e) return;
    keys.delete(e.key);
    if (keys.size === 0) scopes.delete(e.scope);
    if (e.state === 'completed') completed.delete(e);
    expiries.delete(e);
    size--;
  }

  function insert(e: Entry): void {
    let keys = scopes.get(e.scope);
    if (!keys) scopes.set(e.scope, (keys = new Map()));
    keys.set(e.key, e);
    size++;
    expiries.push(e);
  }

  function makeRoom(now: number): void {
    const soonest = expiries.peek();
    if (soonest && soonest.expiresAt <= now) {
      remove(soonest);
      onEvict?.({ scope: soonest.scope, key: soonest.key }, 'expired');
      return;
    }
    const oldest = completed.oldest;
    if (oldest) {
      remove(oldest);
      onEvict?.({ scope: oldest.scope, key: oldest.key }, 'completed');
      return;
    }
    throw new StoreFullError(maxRecords);
  }

  function open(): number {
    if (closed) throw new StoreUnavailableError('memory', 'the store is closed');
    return clock.now();
  }

  /** The record if it is live at `now`; an expired one is absent for every operation. */
  function live(ref: KeyRef, now: number): Entry | undefined {
    const e = find(ref);
    return e && now < e.expiresAt ? e : undefined;
  }

  /** The record `token` fences, or LeaseLost. */
  function held(ref: KeyRef, token: string, now: number): Entry {
    const e = live(ref, now);
    if (!e || e.state !== 'in_progress' || e.token !== token) throw new LeaseLostError(ref);
    return e;
  }

  return {
    name: 'memory',

    async begin(ref: KeyRef, fingerprint: string, opts: BeginOptions): Promise<BeginResult> {
      const now = open();
      const { leaseMs, ttlMs } = beginOptions(opts);

      const existing = find(ref);
      const e = existing && now < existing.expiresAt ? existing : undefined;
      if (e) {
        if (e.fingerprint !== fingerprint) return { kind: 'mismatch', state: e.state };
        if (e.state === 'completed') {
          return { kind: 'replay', outcome: e.outcome!, completedAt: e.completedAt!, expiresAt: e.expiresAt };
        }
        if (now < e.leaseUntil!) {
          return { kind: 'in_progress', attempt: e.attempt, leaseUntil: e.leaseUntil!, retryAfterMs: e.leaseUntil! - now };
        }
        // Take-over of an expired lease: a new attempt, retained as long as a fresh begin.
        e.token = randomUUID();
        e.attempt += 1;
        e.leaseUntil = now + leaseMs;
        e.expiresAt = now + ttlMs;
        expiries.update(e);
        return { kind: 'acquired', token: e.token, attempt: e.attempt, recovered: true, leaseUntil: e.leaseUntil };
      }

      if (existing)
        remove(existing); // expired: replaced in place, no room needed
      else if (size >= maxRecords) makeRoom(now);
      const fresh: Entry = {
        scope: ref.scope,
        key: ref.key,
        state: 'in_progress',
        fingerprint,
        attempt: 1,
        createdAt: now,
        expiresAt: now + ttlMs,
        token: randomUUID(),
        leaseUntil: now + leaseMs,
        outcome: undefined,
        completedAt: undefined,
        heapIndex: -1,
        olderDone: undefined,
        newerDone: undefined,
      };
      insert(fresh);
      return { kind: 'acquired', token: fresh.token!, attempt: 1, recovered: false, leaseUntil: fresh.leaseUntil! };
    },

    async commit(ref: KeyRef, token: string, outcome: string, ttlMs: number): Promise<void> {
      const now = open();
      commitTtl(ttlMs);
      const e = held(ref, token, now);
      e.state = 'completed';
      e.outcome = outcome;
      e.completedAt = now;
      e.expiresAt = now + ttlMs;
      e.token = undefined;
      e.leaseUntil = undefined;
      completed.add(e);
      expiries.update(e);
    },

    async release(ref: KeyRef, token: string): Promise<void> {
      const now = open();
      remove(held(ref, token, now));
    },

    async extend(ref: KeyRef, token: string, leaseMs: number): Promise<number> {
      const now = open();
      extendLease(leaseMs);
      const e = held(ref, token, now);
      e.leaseUntil = now + leaseMs;
      if (e.expiresAt < e.leaseUntil) {
        e.expiresAt = e.leaseUntil;
        expiries.update(e);
      }
      return e.leaseUntil;
    },

    async get(ref: KeyRef): Promise<KeyRecord | undefined> {
      const now = open();
      const e = live(ref, now);
      return e && toRecord(e);
    },

    async delete(ref: KeyRef): Promise<boolean> {
      const now = open();
      const e = find(ref);
      if (!e) return false;
      remove(e);
      return now < e.expiresAt;
    },

    async list(opts: ListOptions): Promise<ListPage> {
      const now = open();
      const { scope, state, after, limit } = listQuery(opts);
      const keys = scopes.get(scope);
      if (!keys) return { records: [] };
      const matching: Entry[] = [];
      for (const e of keys.values()) {
        if (now >= e.expiresAt) continue;
        if (state !== undefined && e.state !== state) continue;
        if (after !== undefined && compareCodePoints(e.key, after) <= 0) continue;
        matching.push(e);
      }
      matching.sort((a, b) => compareCodePoints(a.key, b.key));
      const page = matching.slice(0, limit);
      const records = page.map(toRecord);
      const last = page[page.length - 1];
      return matching.length > limit && last ? { records, cursor: encodeCursor(last.key) } : { records };
    },

    async sweep(opts?: SweepOptions): Promise<number> {
      const now = open();
      const { batchSize, maxBatches } = sweepOptions(opts);
      let removed = 0;
      for (let batch = 0; batch < maxBatches; batch++) {
        let inBatch = 0;
        while (inBatch < batchSize) {
          const e = expiries.peek();
          if (!e || e.expiresAt > now) break;
          remove(e);
          inBatch++;
        }
        removed += inBatch;
        if (inBatch < batchSize) break;
      }
      return removed;
    },

    async ping(): Promise<void> {
      open();
    },

    async close(): Promise<void> {
      closed = true;
      scopes.clear();
      completed.clear();
      expiries.clear();
      size = 0;
    },
  };
}

/** Completed records, oldest first: a doubly linked list threaded through the entries. */
class CompletionList {
  oldest: Entry | undefined;
  private newest: Entry | undefined;

  add(e: Entry): void {
    e.olderDone = this.newest;
    e.newerDone = undefined;
    if (this.newest) this.newest.newerDone = e;
    else this.oldest = e;
    this.newest = e;
  }

  delete(e: Entry): void {
    if (e.olderDone) e.olderDone.newerDone = e.newerDone;
    else if (this.oldest === e) this.oldest = e.newerDone;
    else return; // not in the list
    if (e.newerDone) e.newerDone.olderDone = e.olderDone;
    else this.newest = e.olderDone;
    e.olderDone = e.newerDone = undefined;
  }

  clear(): void {
    this.oldest = this.newest = undefined;
  }
}

/**
 * A binary min-heap of entries by `expiresAt`. Each entry knows its position, so a changed
 * expiry is moved in place and a removed record leaves nothing stale behind.
 */
class ExpiryHeap {
  private items: Entry[] = [];

  peek(): Entry | undefined {
    return this.items[0];
  }

  push(e: Entry): void {
    e.heapIndex = this.items.length;
    this.items.push(e);
    this.siftUp(e.heapIndex);
  }

  /** Restore the order after `e.expiresAt` changed. */
  update(e: Entry): void {
    this.siftDown(this.siftUp(e.heapIndex));
  }

  delete(e: Entry): void {
    const i = e.heapIndex;
    if (i < 0) return;
    e.heapIndex = -1;
    const items = this.items;
    const last = items.pop()!;
    if (last === e) return;
    items[i] = last;
    last.heapIndex = i;
    this.siftDown(this.siftUp(i));
  }

  clear(): void {
    for (const e of this.items) e.heapIndex = -1;
    this.items = [];
  }

  /** Moves the entry at `i` up while it expires before its parent; returns where it ends. */
  private siftUp(i: number): number {
    const items = this.items;
    const e = items[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = items[parent]!;
      if (p.expiresAt <= e.expiresAt) break;
      items[i] = p;
      p.heapIndex = i;
      i = parent;
    }
    items[i] = e;
    e.heapIndex = i;
    return i;
  }

  private siftDown(i: number): void {
    const items = this.items;
    const n = items.length;
    const e = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const child = r < n && items[r]!.expiresAt < items[l]!.expiresAt ? r : l;
      const c = items[child]!;
      if (c.expiresAt >= e.expiresAt) break;
      items[i] = c;
      c.heapIndex = i;
      i = child;
    }
    items[i] = e;
    e.heapIndex = i;
  }
}
