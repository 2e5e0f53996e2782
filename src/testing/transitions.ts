/**
 * Every transition of the key record state machine, one scenario per test, with exact times.
 */
import { describe, expect, it } from 'vitest';
import { acquire, beginFields, expectKind, expectLeaseLost, lease, recordFields, storeCase, T0 } from './harness.js';
import type { ResolvedOptions } from './harness.js';

const ref = { scope: 'tenant-1:POST /orders', key: 'order-42' };
const TIMEOUT = 60_000;

export function describeTransitions(options: ResolvedOptions): void {
  const test = (name: string, body: Parameters<typeof storeCase>[1]) => it(name, storeCase(options, body), TIMEOUT);

  describe('begin', () => {
    test('on an absent key acquires: attempt 1, not recovered, leaseUntil = now + leaseMs', async (store) => {
      const got = await store.begin(ref, 'fp', lease(1000, 60_000));
      const acquired = expectKind(got, 'acquired');
      expect(typeof acquired.token).toBe('string');
      expect(acquired.token.length).toBeGreaterThan(0);
      expect(beginFields(got)).toEqual({
        kind: 'acquired',
        token: acquired.token,
        attempt: 1,
        recovered: false,
        leaseUntil: T0 + 1000,
      });
      expect(recordFields(await store.get(ref))).toEqual({
        ...ref,
        state: 'in_progress',
        fingerprint: 'fp',
        attempt: 1,
        createdAt: T0,
        expiresAt: T0 + 60_000,
        token: acquired.token,
        leaseUntil: T0 + 1000,
        outcome: undefined,
        completedAt: undefined,
      });
    });

    test('while the lease is live answers in_progress with retryAfterMs = leaseUntil - now', async (store, clock) => {
      await acquire(store, ref, 'fp', lease(1000, 60_000));
      await clock.advance(300);
      expect(beginFields(await store.begin(ref, 'fp', lease(1000, 60_000)))).toEqual({
        kind: 'in_progress',
        attempt: 1,
        leaseUntil: T0 + 1000,
        retryAfterMs: 700,
      });
      await clock.advanceTo(T0 + 999);
      expect(beginFields(await store.begin(ref, 'fp', lease(1000, 60_000)))).toEqual({
        kind: 'in_progress',
        attempt: 1,
        leaseUntil: T0 + 1000,
        retryAfterMs: 1,
      });
    });

    test('tokens are unique per acquisition', async (store, clock) => {
      const seen = new Set<string>();
      for (let i = 0; i < 20; i++) seen.add((await acquire(store, { scope: 's', key: `k${i}` })).token);
      expectKind(await store.begin({ scope: 's', key: 'k0' }, 'fp', lease(1000, 60_000)), 'in_progress', 'k0 is held');
      await clock.advance(1000);
      seen.add((await acquire(store, { scope: 's', key: 'k0' })).token);
      expect(seen.size).toBe(21);
    });
  });

  describe('commit', () => {
    test('stores the outcome; later begins replay it with completedAt and expiresAt = now + ttlMs', async (store, clock) => {
      const { token } = await acquire(store, ref, 'fp', lease(1000, 60_000));
      await clock.advance(100);
      await store.commit(ref, token, '{"status":201}', 5000);
      await clock.advance(50);
      expect(beginFields(await store.begin(ref, 'fp', lease(1000, 60_000)))).toEqual({
        kind: 'replay',
        outcome: '{"status":201}',
        completedAt: T0 + 100,
        expiresAt: T0 + 5100,
      });
      expect(recordFields(await store.get(ref))).toEqual({
        ...ref,
        state: 'completed',
        fingerprint: 'fp',
        attempt: 1,
        createdAt: T0,
        expiresAt: T0 + 5100,
        token: undefined,
        leaseUntil: undefined,
        outcome: '{"status":201}',
        completedAt: T0 + 100,
      });
    });

    test('sets expiresAt = now + ttlMs even when shorter than the retention begin set', async (store, clock) => {
      const { token } = await acquire(store, ref, 'fp', lease(100, 60_000));
      await clock.advance(10);
      await store.commit(ref, token, 'done', 50);
      await clock.advanceTo(T0 + 59);
      expectKind(await store.begin(ref, 'fp', lease(100, 60_000)), 'replay');
      await clock.advanceTo(T0 + 60);
      expect(await store.get(ref)).toBeUndefined();
      expect(beginFields(await store.begin(ref, 'fp', lease(100, 60_000)))).toMatchObject({ kind: 'acquired', attempt: 1 });
    });

    test('a second commit with the same token is LeaseLost and the first outcome stays', async (store) => {
      const { token } = await acquire(store, ref);
      await store.commit(ref, token, 'first', 60_000);
      await expectLeaseLost(store.commit(ref, token, 'second', 60_000), 'second commit');
      expect(beginFields(await store.begin(ref, 'fp', lease(1000, 60_000)))).toMatchObject({ kind: 'replay', outcome: 'first' });
    });

    test('with a random token, a token of another key, or on an absent key is LeaseLost', async (store) => {
      const other = { scope: ref.scope, key: 'other' };
      const { token } = await acquire(store, ref);
      const { token: otherToken } = await acquire(store, other);
      await expectLeaseLost(store.commit(ref, 'not-a-token', 'x', 60_000), 'random token');
      await expectLeaseLost(store.commit(ref, '', 'x', 60_000), 'empty token');
      await expectLeaseLost(store.commit(ref, otherToken, 'x', 60_000), "another key's token");
      await expectLeaseLost(store.commit({ scope: ref.scope, key: 'absent' }, token, 'x', 60_000), 'absent key');
      await expectLeaseLost(store.commit({ scope: 'other-scope', key: ref.key }, token, 'x', 60_000), 'other scope');
      // Nothing above changed the record: it is still in progress under the first token.
      expect(recordFields(await store.get(ref))).toMatchObject({ state: 'in_progress', token, attempt: 1 });
      await store.commit(ref, token, 'real', 60_000);
      expect(beginFields(await store.begin(ref, 'fp', lease(1000, 60_000)))).toMatchObject({ kind: 'replay', outcome: 'real' });
    });

    test('by a holder whose lease expired but was not taken over succeeds', async (store, clock) => {
      const { token } = await acquire(store, ref, 'fp', lease(100, 60_000));
      await clock.advance(5000);
      await store.commit(ref, token, 'late but fine', 60_000);
      expect(beginFields(await store.begin(ref, 'fp', lease(100, 60_000)))).toEqual({
        kind: 'replay',
        outcome: 'late but fine',
        completedAt: T0 + 5000,
        expiresAt: T0 + 65_000,
      });
    });
  });

  describe('release', () => {
    test('makes the key absent; the next begin acquires afresh (attempt 1, not recovered)', async (store, clock) => {
      const first = await acquire(store, ref, 'fp', lease(1000, 60_000));
      await clock.advance(10);
      await store.release(ref, first.token);
      expect(await store.get(ref)).toBeUndefined();
      const second = await acquire(store, ref, 'fp', lease(1000, 60_000));
      expect(beginFields(second)).toEqual({
        kind: 'acquired',
        token: second.token,
        attempt: 1,
        recovered: false,
        leaseUntil: T0 + 1010,
      });
      expect(second.token).not.toBe(first.token);
      expect(recordFields(await store.get(ref))).toMatchObject({ createdAt: T0 + 10, attempt: 1 });
    });

    test('twice, or after commit, is LeaseLost', async (store) => {
      const { token } = await acquire(store, ref);
      await store.release(ref, token);
      await expectLeaseLost(store.release(ref, token), 'second release');
      const again = await acquire(store, ref);
      await expectLeaseLost(store.release(ref, token), 'release with the token of a released lease');
      await store.commit(ref, again.token, 'kept', 60_000);
      await expectLeaseLost(store.release(ref, again.token), 'release after commit');
      expect(beginFields(await store.begin(ref, 'fp', lease(1000, 60_000)))).toMatchObject({ kind: 'replay', outcome: 'kept' });
    });

    test('with a random token is LeaseLost and the holder keeps the key', async (store) => {
      const { token } = await acquire(store, ref);
      await expectLeaseLost(store.release(ref, 'not-a-token'), 'random token');
      expect(recordFields(await store.get(ref))).toMatchObject({ state: 'in_progress', token });
    });
  });

  describe('lease take-over', () => {
    test('at exactly leaseUntil the lease is expired: begin takes over (recovered, attempt + 1, new token)', async (store, clock) => {
      const first = await acquire(store, ref, 'fp', lease(1000, 60_000));
      await clock.advanceTo(T0 + 1000);
      const second = expectKind(await store.begin(ref, 'fp', lease(500, 60_000)), 'acquired');
      expect(beginFields(second)).toEqual({
        kind: 'acquired',
        token: second.token,
        attempt: 2,
        recovered: true,
        leaseUntil: T0 + 1500,
      });
      expect(second.token).not.toBe(first.token);
      await clock.advanceTo(T0 + 1500);
      const third = expectKind(await store.begin(ref, 'fp', lease(500, 60_000)), 'acquired');
      expect(beginFields(third)).toMatchObject({ attempt: 3, recovered: true, leaseUntil: T0 + 2000 });
      expect(new Set([first.token, second.token, third.token]).size).toBe(3);
    });

    test('keeps createdAt and sets expiresAt = now + ttlMs, like a fresh begin', async (store, clock) => {
      await acquire(store, ref, 'fp', lease(1000, 10_000));
      await clock.advanceTo(T0 + 4000);
      const taken = await acquire(store, ref, 'fp', lease(1000, 10_000));
      expect(recordFields(await store.get(ref))).toEqual({
        ...ref,
        state: 'in_progress',
        fingerprint: 'fp',
        attempt: 2,
        createdAt: T0,
        expiresAt: T0 + 14_000,
        token: taken.token,
        leaseUntil: T0 + 5000,
        outcome: undefined,
        completedAt: undefined,
      });
      // Still there after the first begin's retention would have ended.
      await clock.advanceTo(T0 + 10_000);
      expectKind(await store.begin(ref, 'fp', lease(1000, 10_000)), 'acquired', 'second take-over');
      expect(recordFields(await store.get(ref))).toMatchObject({ attempt: 3, createdAt: T0 });
    });

    test('fences the old holder: commit, release and extend with its token are LeaseLost; the new result wins', async (store, clock) => {
      const old = await acquire(store, ref, 'fp', lease(1000, 60_000));
      await clock.advance(1500);
      const current = await acquire(store, ref, 'fp', lease(1000, 60_000));
      await expectLeaseLost(store.commit(ref, old.token, 'stale result', 60_000), 'old commit');
      await expectLeaseLost(store.release(ref, old.token), 'old release');
      await expectLeaseLost(store.extend(ref, old.token, 5000), 'old extend');
      // The failed calls changed nothing.
      expect(recordFields(await store.get(ref))).toMatchObject({
        state: 'in_progress',
        token: current.token,
        attempt: 2,
        leaseUntil: T0 + 2500,
      });
      await store.commit(ref, current.token, 'new result', 60_000);
      await expectLeaseLost(store.commit(ref, old.token, 'stale result', 60_000), 'old commit after the new one');
      expect(beginFields(await store.begin(ref, 'fp', lease(1000, 60_000)))).toMatchObject({
        kind: 'replay',
        outcome: 'new result',
      });
      expect(recordFields(await store.get(ref))).toMatchObject({ state: 'completed', outcome: 'new result', attempt: 2 });
    });
  });

  describe('extend', () => {
    test('pushes the lease: a begin at the old leaseUntil is in_progress', async (store, clock) => {
      const { token } = await acquire(store, ref, 'fp', lease(1000, 60_000));
      await clock.advance(500);
      expect(await store.extend(ref, token, 1000)).toBe(T0 + 1500);
      await clock.advanceTo(T0 + 1000);
      expect(beginFields(await store.begin(ref, 'fp', lease(1000, 60_000)))).toEqual({
        kind: 'in_progress',
        attempt: 1,
        leaseUntil: T0 + 1500,
        retryAfterMs: 500,
      });
      expect(recordFields(await store.get(ref))).toMatchObject({ leaseUntil: T0 + 1500, token, expiresAt: T0 + 60_000 });
      await clock.advanceTo(T0 + 1500);
      expect(beginFields(await store.begin(ref, 'fp', lease(1000, 60_000)))).toMatchObject({
        kind: 'acquired',
        attempt: 2,
        recovered: true,
      });
      await expectLeaseLost(store.extend(ref, token, 1000), 'extend after take-over');
    });

    test('raises expiresAt to at least the new leaseUntil, never lowers it', async (store, clock) => {
      const { token } = await acquire(store, ref, 'fp', lease(100, 200));
      await clock.advance(150);
      expect(await store.extend(ref, token, 1000)).toBe(T0 + 1150);
      expect(recordFields(await store.get(ref))).toMatchObject({ expiresAt: T0 + 1150, leaseUntil: T0 + 1150 });
      await clock.advanceTo(T0 + 200); // the original retention has passed; the record lives on
      expect(beginFields(await store.begin(ref, 'fp', lease(100, 200)))).toMatchObject({
        kind: 'in_progress',
        retryAfterMs: 950,
      });
      expect(await store.extend(ref, token, 10)).toBe(T0 + 210);
      expect(recordFields(await store.get(ref))).toMatchObject({ expiresAt: T0 + 1150, leaseUntil: T0 + 210 });
    });

    test('by a holder whose lease expired but was not taken over succeeds', async (store, clock) => {
      const { token } = await acquire(store, ref, 'fp', lease(100, 60_000));
      await clock.advance(400);
      expect(await store.extend(ref, token, 100)).toBe(T0 + 500);
      expectKind(await store.begin(ref, 'fp', lease(100, 60_000)), 'in_progress');
    });

    test('with a random token, after commit, or after release is LeaseLost', async (store) => {
      const { token } = await acquire(store, ref);
      await expectLeaseLost(store.extend(ref, 'not-a-token', 1000), 'random token');
      await store.commit(ref, token, 'x', 60_000);
      await expectLeaseLost(store.extend(ref, token, 1000), 'after commit');
      const other = { scope: ref.scope, key: 'released' };
      const held = await acquire(store, other);
      await store.release(other, held.token);
      await expectLeaseLost(store.extend(other, held.token, 1000), 'after release');
      expect(await store.get(other)).toBeUndefined();
    });
  });

  describe('expiry', () => {
    test('a completed record is absent at exactly expiresAt: get undefined, begin acquires afresh', async (store, clock) => {
      const { token } = await acquire(store, ref, 'fp', lease(100, 60_000));
      await store.commit(ref, token, 'done', 1000);
      await clock.advanceTo(T0 + 999);
      expectKind(await store.begin(ref, 'fp', lease(100, 60_000)), 'replay', 'just before expiresAt');
      expect(await store.get(ref)).not.toBeUndefined();
      await clock.advanceTo(T0 + 1000);
      expect(await store.get(ref)).toBeUndefined();
      expect((await store.list({ scope: ref.scope })).records).toEqual([]);
      // Absent means absent: another fingerprint is not a mismatch any more.
      const again = expectKind(await store.begin(ref, 'other-fp', lease(100, 60_000)), 'acquired');
      expect(beginFields(again)).toMatchObject({ attempt: 1, recovered: false, leaseUntil: T0 + 1100 });
      expect(recordFields(await store.get(ref))).toMatchObject({ fingerprint: 'other-fp', createdAt: T0 + 1000 });
    });

    test('an in-progress record is absent at expiresAt: its holder is fenced, begin acquires afresh', async (store, clock) => {
      const { token } = await acquire(store, ref, 'fp', lease(100, 200));
      await clock.advanceTo(T0 + 200);
      expect(await store.get(ref)).toBeUndefined();
      await expectLeaseLost(store.commit(ref, token, 'too late', 60_000), 'commit after expiry');
      await expectLeaseLost(store.extend(ref, token, 100), 'extend after expiry');
      await expectLeaseLost(store.release(ref, token), 'release after expiry');
      // A fresh record, not a take-over: attempt 1, not recovered.
      expect(beginFields(await store.begin(ref, 'fp', lease(100, 200)))).toMatchObject({
        kind: 'acquired',
        attempt: 1,
        recovered: false,
      });
    });
  });

  describe('mismatch', () => {
    test('a different fingerprint on a live lease is mismatch (in_progress) and changes nothing', async (store) => {
      const { token } = await acquire(store, ref, 'fp');
      expect(beginFields(await store.begin(ref, 'other-fp', lease(1000, 60_000)))).toEqual({
        kind: 'mismatch',
        state: 'in_progress',
      });
      expect(beginFields(await store.begin(ref, 'FP', lease(1000, 60_000))), 'fingerprints are case-sensitive').toEqual({
        kind: 'mismatch',
        state: 'in_progress',
      });
      expect(recordFields(await store.get(ref))).toMatchObject({ token, fingerprint: 'fp', attempt: 1 });
    });

    test('comes before take-over: a different fingerprint on an expired lease is mismatch, not acquired', async (store, clock) => {
      const { token } = await acquire(store, ref, 'fp', lease(100, 60_000));
      await clock.advance(500);
      expect(beginFields(await store.begin(ref, 'other-fp', lease(100, 60_000)))).toEqual({
        kind: 'mismatch',
        state: 'in_progress',
      });
      expect(recordFields(await store.get(ref))).toMatchObject({ token, attempt: 1 });
      await store.commit(ref, token, 'holder still commits', 60_000);
      expectKind(await store.begin(ref, 'fp', lease(100, 60_000)), 'replay');
    });

    test('a different fingerprint on a completed record is mismatch (completed)', async (store) => {
      const { token } = await acquire(store, ref, 'fp');
      await store.commit(ref, token, 'x', 60_000);
      expect(beginFields(await store.begin(ref, 'other-fp', lease(1000, 60_000)))).toEqual({
        kind: 'mismatch',
        state: 'completed',
      });
    });

    test('a released key acquires with a new fingerprint', async (store) => {
      const { token } = await acquire(store, ref, 'fp');
      await store.release(ref, token);
      expectKind(await store.begin(ref, 'other-fp', lease(1000, 60_000)), 'acquired');
      expect(recordFields(await store.get(ref))).toMatchObject({ fingerprint: 'other-fp', attempt: 1 });
    });
  });
}
