import { describe, expect, it } from 'vitest';
import { runStoreConformance } from '../testing/conformance.js';
import { FakeClock, T0 } from '../testing/conformance.js';
import type { KeyRef } from './contract.js';
import { memoryStore } from './memory.js';
import type { EvictReason } from './memory.js';
import { isStoreFullError, StoreFullError } from '../core/errors/store-full.js';
import { isInvalidOptionError } from '../core/errors/invalid-option.js';
import { isStoreUnavailableError } from '../core/errors/store-unavailable.js';

runStoreConformance('memory', { create: (clock) => memoryStore({ clock }) });

const ref = (key: string): KeyRef => ({ scope: 's', key });
const opts = (leaseMs: number, ttlMs: number) => ({ leaseMs, ttlMs });

function bounded(maxRecords: number) {
  const clock = new FakeClock(T0);
  const evicted: Array<[string, EvictReason]> = [];
  const store = memoryStore({ clock, maxRecords, onEvict: (r, reason) => evicted.push([r.key, reason]) });
  const hold = async (key: string, ttlMs: number, leaseMs = Math.min(10, ttlMs)) => {
    const got = await store.begin(ref(key), 'fp', opts(leaseMs, ttlMs));
    if (got.kind !== 'acquired') throw new Error(`${key}: ${got.kind}`);
    return got.token;
  };
  const complete = async (key: string, ttlMs: number) => store.commit(ref(key), await hold(key, ttlMs), `out-${key}`, ttlMs);
  return { clock, store, evicted, hold, complete };
}

describe('memoryStore bounds', () => {
  it('evicts expired records first, oldest expiry first, then the oldest completed record', async () => {
    const { clock, store, evicted, hold, complete } = bounded(5);
    await hold('running', 100); // in progress until T0+100
    await complete('done-early', 50); // completed at T0, expires T0+50
    await complete('done-old', 10_000); // completed at T0: the oldest completed record
    await clock.advance(1);
    await complete('done-new', 500); // completed at T0+1, expires before done-old but is newer
    await hold('short', 30); // in progress, expires T0+30
    await clock.advanceTo(T0 + 60); // expired: short (T0+30), done-early (T0+50)

    await hold('e1', 10_000);
    expect(evicted).toEqual([['short', 'expired']]);
    await hold('e2', 10_000);
    expect(evicted).toEqual([
      ['short', 'expired'],
      ['done-early', 'expired'],
    ]);
    await hold('e3', 10_000);
    expect(evicted.at(-1)).toEqual(['done-old', 'completed']);
    await hold('e4', 10_000);
    expect(evicted.at(-1)).toEqual(['done-new', 'completed']);

    // An evicted completed record has lost its replay: the key runs again.
    expect(await store.get(ref('done-old'))).toBeUndefined();
    // In progress everywhere now (running, e1..e4): nothing may go.
    await expect(store.begin(ref('done-old'), 'fp', opts(10, 10_000))).rejects.toSatisfy(isStoreFullError);
    expect((await store.list({ scope: 's' })).records.map((r) => r.key).sort()).toEqual(['e1', 'e2', 'e3', 'e4', 'running']);

    await clock.advanceTo(T0 + 100); // running's record expires
    await hold('done-old', 10_000);
    expect(evicted.at(-1)).toEqual(['running', 'expired']);
    expect(evicted).toHaveLength(5);
  });

  it('throws StoreFullError when every record is in progress, and never evicts one', async () => {
    const { store, evicted, hold } = bounded(2);
    const a = await hold('a', 1000);
    await hold('b', 1000);
    const error = await store.begin(ref('c'), 'fp', opts(10, 1000)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreFullError);
    expect((error as StoreFullError).code).toBe('STORE_FULL');
    expect((error as StoreFullError).maxRecords).toBe(2);
    expect(evicted).toEqual([]);
    // Keys already held still answer; they need no room.
    expect(await store.begin(ref('a'), 'fp', opts(10, 1000))).toMatchObject({ kind: 'in_progress' });
    await store.commit(ref('a'), a, 'x', 1000);
    await hold('c', 1000);
    expect(evicted).toEqual([['a', 'completed']]);
  });

  it('needs no room to replace an expired record or take over a lease', async () => {
    const { clock, store, evicted, hold } = bounded(2);
    await hold('a', 100, 10);
    await hold('b', 1000, 10);
    await clock.advance(100); // a expired, b's lease expired
    await hold('a', 1000);
    expect(await store.begin(ref('b'), 'fp', opts(10, 1000))).toMatchObject({ kind: 'acquired', recovered: true });
    expect(evicted).toEqual([]);
  });

  it('does not report sweep, delete or release as evictions', async () => {
    const { clock, store, evicted, hold, complete } = bounded(10);
    await complete('swept', 10);
    await complete('deleted', 1000);
    const token = await hold('released', 1000);
    await clock.advance(10);
    expect(await store.sweep()).toBe(1);
    expect(await store.delete(ref('deleted'))).toBe(true);
    await store.release(ref('released'), token);
    expect(evicted).toEqual([]);
  });

  it('keeps evicting correctly through many lease renewals and commits', async () => {
    // Exercises the expiry heap's stale entries and compaction.
    const { clock, store, evicted, hold } = bounded(50);
    const tokens = new Map<string, string>();
    for (let i = 0; i < 50; i++) tokens.set(`k${i}`, await hold(`k${i}`, 100, 50));
    for (let round = 0; round < 200; round++) {
      await clock.advance(1);
      for (const [key, token] of tokens) await store.extend(ref(key), token, 50);
    }
    // Every record's expiresAt was raised to T0+250; commit half with staggered retention.
    for (let i = 0; i < 25; i++) await store.commit(ref(`k${i}`), tokens.get(`k${i}`)!, 'x', 100 + (24 - i));
    await clock.advance(200); // T0+400: k24 (expires T0+300) .. k0 (T0+324) and the in-progress ones (T0+250) are expired
    await hold('new-1', 1000);
    await hold('new-2', 1000);
    // In-progress ones expired first (T0+250), in key order among equals is not promised: check reasons and set.
    expect(evicted.map(([, why]) => why)).toEqual(['expired', 'expired']);
    expect(evicted.every(([key]) => Number(key.slice(1)) >= 25)).toBe(true);
    expect(await store.sweep()).toBe(48);
    expect((await store.list({ scope: 's' })).records.map((r) => r.key)).toEqual(['new-1', 'new-2']);
  });
  it('still sweeps and evicts untouched records after its expiry index is compacted', async () => {
    const { clock, store, evicted, hold, complete } = bounded(30);
    for (let i = 0; i < 20; i++) await complete(`quiet-${i}`, 100 + i);
    const busy = await hold('busy', 200, 100);
    // Thousands of renewals of one record pile up index entries until the index is rebuilt.
    for (let i = 1; i <= 3000; i++) await store.extend(ref('busy'), busy, 200 + i);
    await clock.advance(50);
    await complete('late', 100); // expires T0+150
    await clock.advanceTo(T0 + 125); // quiet-0 .. quiet-19 are expired (T0+100 .. T0+119)
    for (let i = 0; i < 8; i++) await hold(`fill-${i}`, 10_000); // 30 records: full
    expect(evicted).toEqual([]);
    await hold('one-more', 10_000);
    expect(evicted).toEqual([['quiet-0', 'expired']]);
    await clock.advanceTo(T0 + 20_000);
    expect(await store.sweep()).toBe(30); // quiet-1..19, late, busy, fill-0..7 and one-more
  });
});

describe('memoryStore options', () => {
  it('rejects unknown options and bad values at construction', () => {
    const bad: unknown[] = [
      { maxRecord: 10 },
      { clock: { now: () => 0 }, ttl: 1000 },
      { maxRecords: 0 },
      { maxRecords: -1 },
      { maxRecords: 1.5 },
      { maxRecords: '10' },
      { clock: Date.now },
      { onEvict: 'log' },
      null,
    ];
    for (const options of bad) {
      expect(() => memoryStore(options as never), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'INVALID_OPTION' }));
    }
    let thrown: unknown;
    try {
      memoryStore({ leese: 5 } as never);
    } catch (e) {
      thrown = e;
    }
    expect(isInvalidOptionError(thrown)).toBe(true);
    expect(String((thrown as Error).message)).toContain('memoryStore.leese');
  });

  it('uses the system clock by default', async () => {
    const store = memoryStore();
    const before = Date.now();
    const got = await store.begin(ref('k'), 'fp', opts(1000, 2000));
    expect(got.kind).toBe('acquired');
    const leaseUntil = got.kind === 'acquired' ? got.leaseUntil : 0;
    expect(leaseUntil).toBeGreaterThanOrEqual(before + 1000);
    expect(leaseUntil).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('rejects ttlMs below leaseMs, and non-positive durations', async () => {
    const store = memoryStore({ clock: new FakeClock(T0) });
    for (const bad of [opts(1000, 999), opts(0, 10), opts(10, -1), opts(1.5, 10)]) {
      await expect(store.begin(ref('k'), 'fp', bad), JSON.stringify(bad)).rejects.toSatisfy(isInvalidOptionError);
    }
    expect(await store.get(ref('k'))).toBeUndefined();
  });

  it('rejects a cursor it did not make', async () => {
    const store = memoryStore({ clock: new FakeClock(T0) });
    await expect(store.list({ scope: 's', cursor: 'garbage!' })).rejects.toSatisfy(isInvalidOptionError);
  });

  it('is unavailable after close', async () => {
    const store = memoryStore({ clock: new FakeClock(T0) });
    await store.close();
    await expect(store.begin(ref('k'), 'fp', opts(10, 10))).rejects.toSatisfy(isStoreUnavailableError);
    await expect(store.ping()).rejects.toSatisfy(isStoreUnavailableError);
  });
});
