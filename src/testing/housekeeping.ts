/**
 * The operations around the state machine: get, delete, list (paging, scope and state filters,
 * order) and sweep (only expired records, in bounded batches).
 */
import { describe, expect, it } from 'vitest';
import type { KeyRef, Store } from '../store/contract.js';
import { acquire, compareUtf8, expectKind, expectLeaseLost, lease, listAll, recordFields, shuffle, storeCase, T0 } from './harness.js';
import type { ResolvedOptions } from './harness.js';
import { seededRandom } from '../core/random.js';

const TIMEOUT = 60_000;

/** Acquire and (optionally) complete `ref` at the current time. */
async function put(store: Store, ref: KeyRef, state: 'in_progress' | 'completed', ttlMs = 60_000, leaseMs = 1000) {
  const { token } = await acquire(store, ref, `fp-${ref.key}`, lease(leaseMs, ttlMs));
  if (state === 'completed') await store.commit(ref, token, `outcome-${ref.key}`, ttlMs);
  return token;
}

export function describeHousekeeping(options: ResolvedOptions): void {
  const test = (name: string, body: Parameters<typeof storeCase>[1]) => it(name, storeCase(options, body), TIMEOUT);

  describe('get and delete', () => {
    test('get of an absent key is undefined', async (store) => {
      expect(await store.get({ scope: 's', key: 'never' })).toBeUndefined();
    });

    test('delete removes a live record of either state and returns true; absent or expired returns false', async (store, clock) => {
      const running = { scope: 's', key: 'running' };
      const done = { scope: 's', key: 'done' };
      const short = { scope: 's', key: 'short' };
      const token = await put(store, running, 'in_progress');
      await put(store, done, 'completed');
      await put(store, short, 'completed', 100, 100);

      expect(await store.delete(running)).toBe(true);
      expect(await store.get(running)).toBeUndefined();
      await expectLeaseLost(store.commit(running, token, 'x', 60_000), 'commit after delete');
      expect(await store.delete(running)).toBe(false);

      expect(await store.delete(done)).toBe(true);
      expect(await store.get(done)).toBeUndefined();
      expect(await store.delete({ scope: 's', key: 'never' })).toBe(false);

      await clock.advance(100);
      expect(await store.delete(short), 'an expired record is not live').toBe(false);

      // Deleted keys start over.
      for (const ref of [running, done, short]) {
        expect(await store.begin(ref, 'new', lease(1000, 60_000))).toMatchObject({ kind: 'acquired', attempt: 1, recovered: false });
      }
    });
  });

  describe('list', () => {
    test('pages through one scope by key with a cursor: every live record exactly once, no other scope', async (store, clock) => {
      const scope = 'tenant-a';
      // Neighbours that naive prefix or pattern matching would confuse with `tenant-a`.
      const neighbours = ['tenant-a:x', 'tenant-ab', 'tenant-', 'tenant-a%', 'tenant-a*', 'tenant_a', 'TENANT-A'];
      for (const other of neighbours) await put(store, { scope: other, key: 'k03' }, 'completed');
      const short = { scope, key: 'k99-expired' };
      await put(store, short, 'completed', 50, 50);
      const keys = Array.from({ length: 10 }, (_, i) => `k${String(i).padStart(2, '0')}`);
      for (const [i, key] of shuffle(keys.slice(), seededRandom(7)).entries())
        await put(store, { scope, key }, i % 2 === 0 ? 'completed' : 'in_progress');
      await clock.advance(50);

      const expected = keys.slice().sort(compareUtf8);
      for (const limit of [1, 3, 10, 1000, undefined]) {
        const all = await listAll(store, scope, undefined, limit);
        expect(
          all.map((r) => r.key),
          `limit ${limit}`,
        ).toEqual(expected);
        for (const r of all) expect(r.scope).toBe(scope);
      }
      const completed = await listAll(store, scope, 'completed', 2);
      const inProgress = await listAll(store, scope, 'in_progress', 2);
      expect(completed.length + inProgress.length).toBe(10);
      expect(completed.every((r) => r.state === 'completed')).toBe(true);
      expect(inProgress.every((r) => r.state === 'in_progress')).toBe(true);
      expect([...completed, ...inProgress].map((r) => r.key).sort(compareUtf8)).toEqual(expected);
      for (const list of [completed, inProgress]) {
        expect(list.map((r) => r.key)).toEqual(list.map((r) => r.key).sort(compareUtf8));
      }

      for (const other of neighbours) {
        expect(
          (await listAll(store, other)).map((r) => [r.scope, r.key]),
          `scope ${JSON.stringify(other)}`,
        ).toEqual([[other, 'k03']]);
      }
      expect(await listAll(store, 'no-such-scope')).toEqual([]);
    });

    test('records carry the same fields as get', async (store, clock) => {
      const a = { scope: 's', key: 'a' };
      const b = { scope: 's', key: 'b' };
      await put(store, a, 'in_progress');
      await clock.advance(7);
      await put(store, b, 'completed');
      const listed = await listAll(store, 's');
      expect(listed.map(recordFields)).toEqual([recordFields(await store.get(a)), recordFields(await store.get(b))]);
      expect(recordFields(listed[1])).toMatchObject({ state: 'completed', outcome: 'outcome-b', completedAt: T0 + 7 });
    });

    test('orders keys by Unicode code point (UTF-8 bytes), not by locale or UTF-16 units', async (store) => {
      // 'B' < 'a' (no case folding), U+00E9 < U+FF5E < U+1D11E (a surrogate pair in UTF-16).
      const keys = ['b', '\u{1D11E}', 'a', '\uFF5E', 'B', 'a b', 'ab', '\u00E9', 'a-', 'A', '10', '9'];
      for (const key of keys) await put(store, { scope: 's', key }, 'in_progress');
      const expected = ['10', '9', 'A', 'B', 'a', 'a b', 'a-', 'ab', 'b', '\u00E9', '\uFF5E', '\u{1D11E}'];
      expect(expected.slice().sort(compareUtf8)).toEqual(expected);
      for (const limit of [2, 100]) {
        expect((await listAll(store, 's', undefined, limit)).map((r) => r.key)).toEqual(expected);
      }
    });

    test('without a limit pages at most 100 records and still reaches every record', async (store) => {
      const keys = Array.from({ length: 150 }, (_, i) => `key-${String(i).padStart(3, '0')}`);
      for (const key of keys) await put(store, { scope: 's', key }, 'in_progress');
      const first = await store.list({ scope: 's' });
      expect(first.records.length).toBeGreaterThan(0);
      expect(first.records.length).toBeLessThanOrEqual(100);
      expect(first.cursor).toBeDefined();
      expect((await listAll(store, 's')).map((r) => r.key)).toEqual(keys);
    });
  });

  describe('sweep', () => {
    test('removes only expired records, of both states, and counts them', async (store, clock) => {
      const expired = [
        ...['c1', 'c2', 'c3', 'c4', 'c5'].map((key) => ({ key, state: 'completed' as const, ttl: 1000 })),
        ...['p1', 'p2', 'p3'].map((key) => ({ key, state: 'in_progress' as const, ttl: 500 })),
      ];
      const live = [
        ...['lc1', 'lc2'].map((key) => ({ key, state: 'completed' as const, ttl: 10_000 })),
        ...['lp1', 'lp2'].map((key) => ({ key, state: 'in_progress' as const, ttl: 10_000 })),
        { key: 'edge', state: 'completed' as const, ttl: 1001 },
      ];
      for (const r of [...expired, ...live]) await put(store, { scope: 's', key: r.key }, r.state, r.ttl, 100);
      await clock.advanceTo(T0 + 1000);
      expect(await store.sweep()).toBe(8);
      expect(await store.sweep(), 'nothing left to sweep').toBe(0);
      for (const r of live) {
        expect(recordFields(await store.get({ scope: 's', key: r.key })), r.key).toMatchObject({ state: r.state });
      }
      for (const r of expired) expect(await store.get({ scope: 's', key: r.key })).toBeUndefined();
      expect((await listAll(store, 's')).map((r) => r.key)).toEqual(live.map((r) => r.key).sort(compareUtf8));
      // A swept key starts over.
      expectKind(await store.begin({ scope: 's', key: 'c1' }, 'fp-c1', lease(100, 1000)), 'acquired');
      // The record at the edge expires one millisecond later.
      await clock.advanceTo(T0 + 1001);
      expect(await store.sweep()).toBe(1);
    });

    test('works in batches smaller than the number expired', async (store, clock) => {
      for (let i = 0; i < 10; i++) await put(store, { scope: 's', key: `k${i}` }, i % 2 ? 'completed' : 'in_progress', 100, 100);
      await put(store, { scope: 's', key: 'live' }, 'completed', 10_000, 100);
      await clock.advance(100);
      expect(await store.sweep({ batchSize: 3 })).toBe(10);
      expect(await store.sweep({ batchSize: 3 })).toBe(0);
      expect((await listAll(store, 's')).map((r) => r.key)).toEqual(['live']);
    });

    test('maxBatches bounds one call to maxBatches × batchSize records', async (store, clock) => {
      for (let i = 0; i < 10; i++) await put(store, { scope: 's', key: `k${i}` }, 'completed', 100, 100);
      await clock.advance(100);
      expect(await store.sweep({ batchSize: 3, maxBatches: 2 })).toBe(6);
      expect(await store.sweep({ batchSize: 3, maxBatches: 1 })).toBe(3);
      expect(await store.sweep({ batchSize: 3, maxBatches: 5 })).toBe(1);
      expect(await store.sweep({ batchSize: 3, maxBatches: 5 })).toBe(0);
    });
  });

  describe('ping', () => {
    test('resolves on a working store', async (store) => {
      await store.ping();
    });
  });
}
