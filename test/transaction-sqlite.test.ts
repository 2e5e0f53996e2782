/**
 * Transactional mode on SQLite: the key record and the caller's writes commit together or not at
 * all, on a counter table in the same file. `fn` is synchronous (better-sqlite3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import Database from 'better-sqlite3';
import { Oncekey } from '../src/engine/oncekey.js';
import { isInvalidOptionError } from '../src/core/errors/invalid-option.js';
import { isFingerprintMismatchError } from '../src/core/errors/mismatch.js';
import { sqliteStore } from '../src/store/sqlite.js';
import type { TransactionalStore } from '../src/store/transactional.js';
import { startTxWorker, verdict, type TxWorker } from './fixtures/tx-spawn.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const TABLE = 'oncekey_keys';

describe('Oncekey.transaction on SQLite', () => {
  let dir: string;
  let path: string;
  let store: TransactionalStore<Database.Database>;
  let oncekey: Oncekey;
  let admin: Database.Database;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'oncekey-tx-'));
    path = join(dir, 'app.db');
    store = sqliteStore({ path, table: TABLE, busyTimeoutMs: 30_000 });
    oncekey = new Oncekey({ store, ttl: '1h', lease: '30s', wait: { timeout: '30s' } });
    admin = new Database(path, { timeout: 30_000 });
  });
  afterEach(async () => {
    admin?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function counterTable(keys: readonly string[]): void {
    admin.exec('CREATE TABLE counters (key TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT');
    const insert = admin.prepare('INSERT INTO counters (key, n) VALUES (?, 0)');
    for (const key of keys) insert.run(key);
  }
  const counters = () =>
    Object.fromEntries(
      (admin.prepare('SELECT key, n FROM counters ORDER BY key').all() as { key: string; n: number }[]).map((r) => [r.key, r.n]),
    );
  const increment = (tx: Database.Database, key: string) =>
    (tx.prepare('UPDATE counters SET n = n + 1 WHERE key = ? RETURNING n').get(key) as { n: number }).n;

  it('runs once, commits the write with the record, replays; another input is a mismatch', async () => {
    counterTable(['a']);
    const ref = { scope: 'basic', key: 'a' };
    expect(await oncekey.transaction(ref, (tx: Database.Database) => ({ n: increment(tx, 'a') }), { input: 1 })).toEqual({
      value: { n: 1 },
      replayed: false,
      attempt: 1,
    });
    expect(await oncekey.transaction(ref, (tx: Database.Database) => ({ n: increment(tx, 'a') }), { input: 1 })).toEqual({
      value: { n: 1 },
      replayed: true,
      attempt: 1,
    });
    const mismatch = await oncekey.transaction(ref, (tx: Database.Database) => increment(tx, 'a'), { input: 2 }).catch((e: unknown) => e);
    expect(isFingerprintMismatchError(mismatch)).toBe(true);
    expect(counters()).toEqual({ a: 1 });
  });

  it('a thrown error, an unstorable result or an async fn roll back the write and the record', async () => {
    counterTable(['b']);
    const ref = { scope: 'rollback', key: 'b' };
    const boom = new Error('boom');
    await expect(
      oncekey.transaction(ref, (tx: Database.Database) => {
        increment(tx, 'b');
        throw boom;
      }),
    ).rejects.toBe(boom);
    const unstorable = await oncekey
      .transaction(ref, (tx: Database.Database) => ({ n: increment(tx, 'b'), at: new Date() }))
      .catch((e: unknown) => e);
    expect((unstorable as { code?: string }).code).toBe('UNSERIALIZABLE_RESULT');
    const asyncFn = await oncekey.transaction(ref, async (tx: Database.Database) => increment(tx, 'b')).catch((e: unknown) => e);
    expect(String(asyncFn)).toMatch(/synchronous/);
    expect(counters()).toEqual({ b: 0 });
    expect(await store.get(ref)).toBeUndefined();
    expect(await oncekey.transaction(ref, (tx: Database.Database) => increment(tx, 'b'))).toEqual({
      value: 1,
      replayed: false,
      attempt: 1,
    });
    expect(counters()).toEqual({ b: 1 });
  });

  it('refuses to nest inside a transaction already open on the handle', async () => {
    counterTable(['n']);
    const ref = { scope: 'nest', key: 'n' };
    let nested: Promise<unknown> | undefined;
    const inner = await oncekey
      .transaction(ref, (tx: Database.Database) => {
        increment(tx, 'n');
        nested = oncekey.transaction({ scope: 'nest', key: 'inner' }, () => 1);
        return nested;
      })
      .catch((e: unknown) => e);
    // The outer fn returned a promise (the inner call): rolled back, nothing stored.
    expect(String(inner)).toMatch(/synchronous/);
    // The inner call itself was refused because the handle was already inside a transaction.
    expect(nested).toBeDefined();
    const nestedError = await nested!.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isInvalidOptionError(nestedError)).toBe(true);
    expect(String((nestedError as Error).message)).toMatch(/do not nest/);
    expect(counters()).toEqual({ n: 0 });
    expect(await store.get(ref)).toBeUndefined();
    expect(await store.get({ scope: 'nest', key: 'inner' })).toBeUndefined();
  });

  it('50 concurrent duplicates on each of 8 keys in one process: each counter is 1, one result per key', async () => {
    const keys = Array.from({ length: 8 }, (_, i) => `k${i}`);
    counterTable(keys);
    const results = await Promise.all(
      keys.flatMap((key) =>
        Array.from({ length: 50 }, async () => ({
          key,
          ...(await oncekey.transaction({ scope: 'dups', key }, (tx: Database.Database) => ({ key, n: increment(tx, key) }))),
        })),
      ),
    );
    expect(counters()).toEqual(Object.fromEntries(keys.map((k) => [k, 1])));
    for (const key of keys) {
      const mine = results.filter((r) => r.key === key);
      expect(mine.filter((r) => !r.replayed)).toHaveLength(1);
      expect(new Set(mine.map((r) => JSON.stringify(r.value)))).toEqual(new Set([JSON.stringify({ key, n: 1 })]));
    }
  });

  it('processes SIGKILLed after the increment and before commit leave nothing; duplicates in other processes and retries see one run per key', async () => {
    const keys = Array.from({ length: 4 }, (_, i) => `key-${i}`);
    counterTable(keys);
    const base = { backend: 'sqlite' as const, target: path, table: TABLE, counters: 'counters' };
    const workers: TxWorker[] = [];
    const crash = async (key: string) => {
      const crasher = await startTxWorker({ ...base, mode: 'crash', keys: [key], callers: 1 });
      workers.push(crasher);
      crasher.go();
      expect(await crasher.line(`incremented ${key}`)).toBe(`incremented ${key}`);
      return crasher;
    };
    try {
      // Two crashes with nobody waiting.
      for (const key of keys.slice(1, 3)) await (await crash(key)).kill();
      expect(counters()).toEqual(Object.fromEntries(keys.map((k) => [k, 0])));

      // A crash while 50 duplicates per key from two processes wait for the write lock.
      const crasher = await crash(keys[0]!);
      const dups = await Promise.all([0, 1].map(() => startTxWorker({ ...base, mode: 'dup', keys, callers: 25 })));
      workers.push(...dups);
      for (const d of dups) d.go();
      await sleep(200); // let them reach BEGIN IMMEDIATE (correctness does not depend on it)
      await crasher.kill();
      const reports = (await Promise.all(dups.map((d) => d.result()))).flat();

      const retries = await Promise.all(
        keys.map(async (key) => {
          const r = await oncekey.transaction({ scope: 'tx-crash', key }, (tx: Database.Database) => ({
            n: increment(tx, key),
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
      expect(counters()).toEqual(Object.fromEntries(keys.map((k) => [k, 1])));
    } finally {
      await Promise.all(workers.map((w) => w.kill()));
    }
  });
});
