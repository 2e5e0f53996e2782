/**
 * Races: many concurrent begins on the same keys, commit against take-over, commit against
 * commit. Each asserts who won and what everyone else saw, never just "no error".
 */
import { describe, expect, it } from 'vitest';
import type { BeginResult, KeyRef } from '../store/contract.js';
import { isLeaseLostError } from '../core/errors/lease-lost.js';
import { acquire, beginFields, expectKind, lease, recordFields, settle, shuffle, storeCase, T0 } from './harness.js';
import type { ResolvedOptions } from './harness.js';
import { seededRandom } from '../core/random.js';

const TIMEOUT = 300_000;
const LEASE = lease(10_000, 600_000);

export function describeConcurrency(options: ResolvedOptions): void {
  const { keys, callers } = options.concurrency;
  const test = (name: string, body: Parameters<typeof storeCase>[1]) => it(name, storeCase(options, body), TIMEOUT);
  const refOf = (i: number): KeyRef => ({ scope: 'race', key: `key-${i}` });

  describe('concurrency', () => {
    test(`${keys} keys × ${callers} concurrent begins: exactly one acquired per key, then all replay`, async (store) => {
      const calls: number[] = [];
      for (let c = 0; c < callers; c++) for (let k = 0; k < keys; k++) calls.push(k);
      shuffle(calls, seededRandom(1));
      const results = await Promise.all(calls.map((k) => store.begin(refOf(k), 'fp', LEASE)));

      const byKey = groupBy(calls, results);
      const tokens = new Map<number, string>();
      for (const [k, got] of byKey) {
        const acquired = got.filter((r) => r.kind === 'acquired');
        expect(acquired.length, `key ${k}: acquired count`).toBe(1);
        const winner = expectKind(acquired[0]!, 'acquired');
        expect(winner).toMatchObject({ attempt: 1, recovered: false, leaseUntil: T0 + LEASE.leaseMs });
        tokens.set(k, winner.token);
        const others = got.filter((r) => r !== winner);
        expect(others.length).toBe(callers - 1);
        for (const r of others) {
          expect(beginFields(r), `key ${k}: a loser`).toEqual({
            kind: 'in_progress',
            attempt: 1,
            leaseUntil: T0 + LEASE.leaseMs,
            retryAfterMs: LEASE.leaseMs,
          });
        }
      }
      expect(byKey.size).toBe(keys);

      await Promise.all([...tokens].map(([k, token]) => store.commit(refOf(k), token, `outcome-${k}`, LEASE.ttlMs)));
      shuffle(calls, seededRandom(2));
      const replays = await Promise.all(calls.map((k) => store.begin(refOf(k), 'fp', LEASE)));
      for (const [k, got] of groupBy(calls, replays)) {
        for (const r of got) expect(r, `key ${k}`).toMatchObject({ kind: 'replay', outcome: `outcome-${k}` });
      }
    });

    test(`${callers} concurrent begins on an expired lease: exactly one takes over`, async (store, clock) => {
      const n = Math.max(1, Math.min(keys, 20));
      for (let k = 0; k < n; k++) await acquire(store, refOf(k), 'fp', LEASE);
      await clock.advance(LEASE.leaseMs);
      const calls: number[] = [];
      for (let c = 0; c < callers; c++) for (let k = 0; k < n; k++) calls.push(k);
      shuffle(calls, seededRandom(3));
      const results = await Promise.all(calls.map((k) => store.begin(refOf(k), 'fp', LEASE)));
      for (const [k, got] of groupBy(calls, results)) {
        const acquired = got.filter((r) => r.kind === 'acquired');
        expect(acquired.length, `key ${k}: take-overs`).toBe(1);
        expect(acquired[0]).toMatchObject({ attempt: 2, recovered: true });
        for (const r of got) if (r.kind !== 'acquired') expect(r).toMatchObject({ kind: 'in_progress', attempt: 2 });
      }
    });

    test('commit by the expired holder races a take-over: exactly one of them wins', async (store, clock) => {
      const n = Math.max(2, Math.min(keys, 100));
      const old = new Map<number, string>();
      for (let k = 0; k < n; k++) old.set(k, (await acquire(store, refOf(k), 'fp', LEASE)).token);
      await clock.advance(LEASE.leaseMs + 1);

      // Alternate who is called first so either order can win on any store.
      const races = Array.from({ length: n }, async (_, k) => {
        const commit = () => settle(store.commit(refOf(k), old.get(k)!, `old-${k}`, LEASE.ttlMs));
        const begin = () => store.begin(refOf(k), 'fp', LEASE);
        if (k % 2 === 0) {
          const [c, b] = await Promise.all([commit(), begin()]);
          return { k, c, b };
        }
        const [b, c] = await Promise.all([begin(), commit()]);
        return { k, c, b };
      });

      for (const { k, c, b } of await Promise.all(races)) {
        if (c.ok) {
          // The old holder won: the take-over must see the completed record.
          expect(b, `key ${k}: commit won, so begin replays`).toMatchObject({ kind: 'replay', outcome: `old-${k}` });
          expect(recordFields(await store.get(refOf(k)))).toMatchObject({ state: 'completed', outcome: `old-${k}`, attempt: 1 });
        } else {
          expect(isLeaseLostError(c.error), `key ${k}: a losing commit is LeaseLost (${String(c.error)})`).toBe(true);
          const taken = expectKind(b, 'acquired', `key ${k}: commit lost, so begin took over`);
          expect(taken).toMatchObject({ attempt: 2, recovered: true });
          await store.commit(refOf(k), taken.token, `new-${k}`, LEASE.ttlMs);
          expect(await store.begin(refOf(k), 'fp', LEASE)).toMatchObject({ kind: 'replay', outcome: `new-${k}` });
        }
      }
    });

    test('two commits, or a commit and a release, with one token: exactly one succeeds', async (store) => {
      const n = Math.max(2, Math.min(keys, 100));
      const tokens: string[] = [];
      for (let k = 0; k < 2 * n; k++) tokens.push((await acquire(store, refOf(k), 'fp', LEASE)).token);
      const results = await Promise.all(
        tokens.map(async (token, k) => {
          const ref = refOf(k);
          const first = settle(store.commit(ref, token, `a-${k}`, LEASE.ttlMs));
          const second = k < n ? settle(store.commit(ref, token, `b-${k}`, LEASE.ttlMs)) : settle(store.release(ref, token));
          return { k, outcomes: await Promise.all([first, second]) };
        }),
      );
      for (const { k, outcomes } of results) {
        const wins = outcomes.filter((o) => o.ok).length;
        expect(wins, `key ${k}: successes`).toBe(1);
        for (const o of outcomes) if (!o.ok) expect(isLeaseLostError(o.error), `key ${k}: ${String(o.error)}`).toBe(true);
        const record = await store.get(refOf(k));
        if (outcomes[0]!.ok) expect(record).toMatchObject({ state: 'completed', outcome: `a-${k}` });
        else if (k < n) expect(record).toMatchObject({ state: 'completed', outcome: `b-${k}` });
        else expect(record, `key ${k}: released`).toBeUndefined();
      }
    });
  });
}

function groupBy(calls: number[], results: BeginResult[]): Map<number, BeginResult[]> {
  const byKey = new Map<number, BeginResult[]>();
  calls.forEach((k, i) => {
    const list = byKey.get(k) ?? [];
    list.push(results[i]!);
    byKey.set(k, list);
  });
  return byKey;
}
