/**
 * Transactional mode on PostgreSQL: the key record and the caller's writes commit together or
 * not at all. Asserted on a counter table incremented inside the transaction: after duplicates,
 * thrown errors and processes killed mid-transaction, each key's counter is exactly 1 and every
 * caller of a key got the same result.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import type { InProgressEvent } from '../src/engine/hooks.js';
import { Oncekey } from '../src/engine/oncekey.js';
import { isFingerprintMismatchError } from '../src/core/errors/mismatch.js';
import { isInProgressError } from '../src/core/errors/in-progress.js';
import { isInvalidOptionError } from '../src/core/errors/invalid-option.js';
import { isStoreUnavailableError } from '../src/core/errors/store-unavailable.js';
import { memoryStore } from '../src/store/memory.js';
import type { PostgresStore } from '../src/store/postgres/index.js';
import { describePostgres, POSTGRES_URL } from './helpers/services.js';
import { pgTestBed, type PgTestBed } from './fixtures/pg-store.js';
import { startTxWorker, verdict, type TxWorker } from './fixtures/tx-spawn.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describePostgres()('Oncekey.transaction on PostgreSQL', () => {
  let bed: PgTestBed;
  let store: PostgresStore;
  let oncekey: Oncekey;
  let counters: string;
  let tables = 0;

  beforeAll(async () => {
    bed = pgTestBed(POSTGRES_URL!);
    store = await bed.create({ maxConnections: 8, connectionTimeoutMs: 30_000 });
    oncekey = new Oncekey({ store, ttl: '1h', lease: '30s', wait: { timeout: '30s' } });
  });
  afterAll(async () => {
    if (store) await bed.destroy(store);
    await bed?.end();
  });

  /** A fresh counter table with one row per key, n = 0. */
  async function counterTable(keys: readonly string[]): Promise<string> {
    counters = `"${bed.schema}"."counters_${++tables}"`;
    await bed.admin.query(`CREATE TABLE ${counters} (key text PRIMARY KEY, n integer NOT NULL)`);
    await bed.admin.query(`INSERT INTO ${counters} SELECT unnest($1::text[]), 0`, [keys]);
    return counters;
  }
  async function countersNow(): Promise<Record<string, number>> {
    const { rows } = await bed.admin.query<{ key: string; n: number }>(`SELECT key, n FROM ${counters} ORDER BY key`);
    return Object.fromEntries(rows.map((r) => [r.key, r.n]));
  }
  const increment = async (tx: pg.PoolClient, key: string) =>
    (await tx.query<{ n: number }>(`UPDATE ${counters} SET n = n + 1 WHERE key = $1 RETURNING n`, [key])).rows[0]!.n;

  it('runs once, commits the write with the record, and replays the result', async () => {
    await counterTable(['a']);
    const ref = { scope: 'basic', key: 'a' };
    const first = await oncekey.transaction(ref, async (tx: pg.PoolClient) => ({ n: await increment(tx, 'a') }), { input: { amount: 5 } });
    expect(first).toEqual({ value: { n: 1 }, replayed: false, attempt: 1 });
    const again = await oncekey.transaction(ref, async (tx: pg.PoolClient) => ({ n: await increment(tx, 'a') }), { input: { amount: 5 } });
    expect(again).toEqual({ value: { n: 1 }, replayed: true, attempt: 1 });
    expect(await countersNow()).toEqual({ a: 1 });
    expect(await store.get(ref)).toMatchObject({ state: 'completed' });
    // Another input under the same key: nothing runs.
    const mismatch = await oncekey
      .transaction(ref, async (tx: pg.PoolClient) => increment(tx, 'a'), { input: { amount: 6 } })
      .catch((e: unknown) => e);
    expect(isFingerprintMismatchError(mismatch)).toBe(true);
    expect(await countersNow()).toEqual({ a: 1 });
  });

  it('a thrown error rolls back the write and the record together; the retry starts clean', async () => {
    await counterTable(['b']);
    const ref = { scope: 'rollback', key: 'b' };
    const boom = new Error('boom after the write');
    await expect(
      oncekey.transaction(ref, async (tx: pg.PoolClient) => {
        await increment(tx, 'b');
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await countersNow()).toEqual({ b: 0 });
    expect(await store.get(ref)).toBeUndefined();
    const retry = await oncekey.transaction(ref, async (tx: pg.PoolClient) => increment(tx, 'b'));
    expect(retry).toEqual({ value: 1, replayed: false, attempt: 1 });
    expect(await countersNow()).toEqual({ b: 1 });
  });

  it('a failed statement that fn swallowed aborts the whole transaction: nothing commits', async () => {
    await counterTable(['s']);
    const ref = { scope: 'swallowed', key: 's' };
    const error = await oncekey
      .transaction(ref, async (tx: pg.PoolClient) => {
        const n = await increment(tx, 's');
        await tx.query('SELECT 1 / 0').catch(() => undefined); // PostgreSQL aborts the transaction here
        return n;
      })
      .catch((e: unknown) => e);
    expect(isStoreUnavailableError(error)).toBe(true);
    expect(await countersNow()).toEqual({ s: 0 });
    expect(await store.get(ref)).toBeUndefined();
    expect(await oncekey.transaction(ref, async (tx: pg.PoolClient) => increment(tx, 's'))).toEqual({
      value: 1,
      replayed: false,
      attempt: 1,
    });
  });

  it('a result the codec cannot store rolls back the write too', async () => {
    await counterTable(['c']);
    const ref = { scope: 'codec', key: 'c' };
    const error = await oncekey
      .transaction(ref, async (tx: pg.PoolClient) => ({ n: await increment(tx, 'c'), at: new Date() }))
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('UNSERIALIZABLE_RESULT');
    expect(await countersNow()).toEqual({ c: 0 });
    expect(await store.get(ref)).toBeUndefined();
  });

  it('50 concurrent duplicates on each of 8 keys: each counter is 1 and every caller got the same result', async () => {
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    await counterTable(keys);
    const calls = keys.flatMap((key) =>
      Array.from({ length: 50 }, async () => {
        const r = await oncekey.transaction({ scope: 'dups', key }, async (tx: pg.PoolClient) => {
          const n = await increment(tx, key);
          await sleep(5); // keep the transaction open while the duplicates pile up on the row
          return { key, n };
        });
        return { key, ...r };
      }),
    );
    const results = await Promise.all(calls);
    expect(await countersNow()).toEqual(Object.fromEntries(keys.map((k) => [k, 1])));
    for (const key of keys) {
      const mine = results.filter((r) => r.key === key);
      expect(mine.filter((r) => !r.replayed)).toHaveLength(1);
      expect(new Set(mine.map((r) => JSON.stringify(r.value)))).toEqual(new Set([JSON.stringify({ key, n: 1 })]));
    }
  });

  it("onInProgress 'throw': a duplicate of a running transaction fails at once with InProgressError", async () => {
    await counterTable(['d']);
    const ref = { scope: 'throw', key: 'd' };
    let release!: () => void;
    const holding = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const first = oncekey.transaction(ref, async (tx: pg.PoolClient) => {
      const n = await increment(tx, 'd');
      entered();
      await holding;
      return n;
    });
    await inside;
    const dup = await oncekey
      .transaction(ref, async (tx: pg.PoolClient) => increment(tx, 'd'), { onInProgress: 'throw' })
      .catch((e: unknown) => e);
    expect(isInProgressError(dup)).toBe(true);
    release();
    expect(await first).toEqual({ value: 1, replayed: false, attempt: 1 });
    expect(await countersNow()).toEqual({ d: 1 });
  });

  it('a key held by a non-transactional run (live lease) is waited for, then replayed', async () => {
    await counterTable(['e']);
    const ref = { scope: 'mixed', key: 'e' };
    let finish!: (value: string) => void;
    const running = oncekey.run(ref, { order: 7 }, () => new Promise<string>((resolve) => (finish = resolve)));
    for (;;) {
      if ((await store.get(ref))?.state === 'in_progress') break;
      await sleep(5);
    }
    // A second engine on the same store whose onInProgress hook tells us the call met the live
    // lease and is waiting (not merely racing finish() and getting a plain replay).
    const inProgress: InProgressEvent[] = [];
    let sawWaiting!: () => void;
    const isWaiting = new Promise<void>((resolve) => (sawWaiting = resolve));
    const watched = new Oncekey({
      store,
      ttl: '1h',
      lease: '30s',
      wait: { timeout: '30s' },
      hooks: {
        onInProgress: (event) => {
          inProgress.push(event);
          sawWaiting();
        },
      },
    });
    const waiting = watched.transaction(ref, async (tx: pg.PoolClient) => `tx ${await increment(tx, 'e')}`, { input: { order: 7 } });
    await Promise.race([
      isWaiting,
      waiting.then(
        () => undefined,
        () => undefined,
      ),
    ]);
    expect(inProgress).toHaveLength(1);
    expect(inProgress[0]).toMatchObject({ ref, attempt: 1, action: 'wait' });
    finish('from run');
    expect(await running).toEqual({ value: 'from run', replayed: false, attempt: 1 });
    expect(await waiting).toEqual({ value: 'from run', replayed: true, attempt: 1 });
    expect(inProgress).toHaveLength(1);
    expect(await countersNow()).toEqual({ e: 0 });
  });

  it('rejects options it does not support (cacheErrors: a rolled-back error is never stored)', async () => {
    const error = await oncekey.transaction({ scope: 's', key: 'k' }, () => 1, { cacheErrors: true } as never).catch((e: unknown) => e);
    expect(isInvalidOptionError(error)).toBe(true);
  });

  it('a store without transactional mode is refused clearly', async () => {
    const memory = new Oncekey({ store: memoryStore(), ttl: '1h', lease: '30s' });
    const error = await memory.transaction({ scope: 's', key: 'k' }, () => 1).catch((e: unknown) => e);
    expect(isInvalidOptionError(error)).toBe(true);
  });

  describe('processes killed with SIGKILL mid-transaction', () => {
    it('after the increment and before commit: nothing of theirs stays; the duplicates and retries see one run per key', async () => {
      const keys = Array.from({ length: 6 }, (_, i) => `key-${i}`);
      const table = await counterTable(keys);
      const base = { backend: 'postgres' as const, target: POSTGRES_URL!, schema: store.schema, table: store.table, counters: table };
      const workers: TxWorker[] = [];
      try {
        // Three crashers, two keys each: each increments its counters and hangs inside the transactions.
        const crashers = await Promise.all(
          [0, 1, 2].map((i) => startTxWorker({ ...base, mode: 'crash', keys: keys.slice(2 * i, 2 * i + 2), callers: 1 })),
        );
        workers.push(...crashers);
        for (const c of crashers) c.go();
        await Promise.all(
          crashers.flatMap((c, i) =>
            keys.slice(2 * i, 2 * i + 2).map(async (key) => expect(await c.line(`incremented ${key}`)).toBe(`incremented ${key}`)),
          ),
        );

        // 50 duplicates per key from two processes pile up behind the crashers' row locks.
        const dups = await Promise.all([0, 1].map(() => startTxWorker({ ...base, mode: 'dup', keys, callers: 25 })));
        workers.push(...dups);
        for (const d of dups) d.go();
        await waitForLockWaiters(bed.admin, store.table, 10);

        for (const c of crashers) await c.kill();
        const reports = (await Promise.all(dups.map((d) => d.result()))).flat();

        // Then retries, after everything settled: every one replays.
        const retries = await Promise.all(
          keys.map(async (key) => {
            const r = await oncekey.transaction({ scope: 'tx-crash', key }, async (tx: pg.PoolClient) => ({
              n: await increment(tx, key),
              pid: process.pid,
            }));
            return { key, value: r.value, replayed: r.replayed };
          }),
        );
        expect(retries.every((r) => r.replayed)).toBe(true);

        const { errors, ranPerKey, valuesPerKey } = verdict([...reports, ...retries]);
        expect(errors).toEqual([]);
        expect(reports).toHaveLength(keys.length * 50);
        expect(Object.fromEntries(ranPerKey)).toEqual(Object.fromEntries(keys.map((k) => [k, 1])));
        for (const key of keys) expect(valuesPerKey.get(key)?.size, key).toBe(1);
        for (const key of keys) expect(JSON.parse([...valuesPerKey.get(key)!][0]!)).toMatchObject({ n: 1 });
        const counts = await countersNow();
        expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(keys.length);
        expect(counts).toEqual(Object.fromEntries(keys.map((k) => [k, 1])));
      } finally {
        await Promise.all(workers.map((w) => w.kill()));
      }
    });
  });
});

/** Resolves once at least `n` backends wait on a lock in a statement on `table`. */
async function waitForLockWaiters(admin: pg.Pool, table: string, n: number): Promise<void> {
  for (;;) {
    const { rows } = await admin.query<{ waiting: number }>(
      `SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE $1`,
      [`%"${table}"%`],
    );
    if (rows[0]!.waiting >= n) return;
    await sleep(20);
  }
}
