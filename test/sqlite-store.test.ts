/**
 * What is particular to sqliteStore beyond the shared conformance suite: options, the versioned
 * schema, sharing a file with the application, driver errors mapped to StoreUnavailableError,
 * durability across reopen, and the begin path that re-decides under the write lock.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sqliteStore, SQLITE_SCHEMA_VERSION } from '../src/store/sqlite.js';
import { ensureSchema } from '../src/store/sqlite/schema.js';
import { prepareStatements } from '../src/store/sqlite/statements.js';
import { FakeClock, T0 } from '../src/testing/conformance.js';
import type { Store } from '../src/store/contract.js';
import { isInvalidOptionError } from '../src/core/errors/invalid-option.js';
import { isLeaseLostError } from '../src/core/errors/lease-lost.js';
import { isStoreUnavailableError, type StoreUnavailableError } from '../src/core/errors/store-unavailable.js';

const LEASE = { leaseMs: 30_000, ttlMs: 3_600_000 };
const ref = { scope: 'tenant-1 POST /orders', key: 'k1' };

let dir: string;
let path: string;
const open: Array<Store | Database.Database> = [];

/** Opens a store or a raw connection that the test's cleanup will close. */
function track<T extends Store | Database.Database>(handle: T): T {
  open.push(handle);
  return handle;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'oncekey-sqlite-'));
  path = join(dir, 'store.db');
});

afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
  rmSync(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('sqliteStore options', () => {
  it.each([
    ['no options', undefined, 'sqliteStore.path'],
    ['no path', {}, 'sqliteStore.path'],
    ['an empty path', { path: '' }, 'sqliteStore.path'],
    ['an unknown option', { path: ':memory:', leese: 5 }, 'sqliteStore.leese'],
    ['a bad synchronous', { path: ':memory:', synchronous: 'OFF' }, 'sqliteStore.synchronous'],
    ['a negative busy timeout', { path: ':memory:', busyTimeoutMs: -1 }, 'sqliteStore.busyTimeoutMs'],
    ['a fractional busy timeout', { path: ':memory:', busyTimeoutMs: 1.5 }, 'sqliteStore.busyTimeoutMs'],
    ['a clock without now()', { path: ':memory:', clock: {} }, 'sqliteStore.clock'],
    ['a table name that is not an identifier', { path: ':memory:', table: 'x"; DROP TABLE y; --' }, 'sqliteStore.table'],
  ])('rejects %s with InvalidOptionError', (_, options, option) => {
    const error = thrown(() => sqliteStore(options as never));
    expect(isInvalidOptionError(error)).toBe(true);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', option });
  });

  it('a path it cannot open is StoreUnavailableError, not a driver error', () => {
    const error = thrown(() => sqliteStore({ path: join(dir, 'no-such-dir', 'x.db') }));
    expect(isStoreUnavailableError(error)).toBe(true);
  });

  it('puts the file in WAL mode and keeps records across close and reopen, with either synchronous', async () => {
    const first = sqliteStore({ path, synchronous: 'FULL' });
    const a = await first.begin(ref, 'fp', LEASE);
    if (a.kind !== 'acquired') throw new Error(a.kind);
    await first.commit(ref, a.token, 'the outcome', LEASE.ttlMs);
    await first.close();

    const raw = track(new Database(path));
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');

    const second = track(sqliteStore({ path, synchronous: 'NORMAL' }));
    expect(await second.begin(ref, 'fp', LEASE)).toMatchObject({ kind: 'replay', outcome: 'the outcome' });
  });
});

describe('sqliteStore schema', () => {
  it('records its version in its own meta table and leaves PRAGMA user_version to the application', async () => {
    const app = track(new Database(path));
    app.pragma('user_version = 7');
    app.exec('CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)');
    track(sqliteStore({ path }));
    expect(app.pragma('user_version', { simple: true })).toBe(7);
    expect(app.prepare('SELECT version FROM oncekey_schema WHERE table_name = ?').pluck().get('oncekey_records')).toBe(
      SQLITE_SCHEMA_VERSION,
    );
  });

  it('refuses a table written by a newer version, with a message that says so', async () => {
    await sqliteStore({ path }).close();
    const raw = track(new Database(path));
    raw.prepare('UPDATE oncekey_schema SET version = ? WHERE table_name = ?').run(SQLITE_SCHEMA_VERSION + 1, 'oncekey_records');
    const error = thrown(() => sqliteStore({ path }));
    expect(isStoreUnavailableError(error)).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`schema version ${SQLITE_SCHEMA_VERSION + 1}.*upgrade oncekey`));
  });

  it('refuses to adopt an existing table it did not create', () => {
    const raw = track(new Database(path));
    raw.exec('CREATE TABLE oncekey_records (id INTEGER PRIMARY KEY)');
    const error = thrown(() => sqliteStore({ path }));
    expect(isStoreUnavailableError(error)).toBe(true);
    expect((error as Error).message).toMatch(/not created by oncekey/);
  });

  it('keeps two tables in one file apart', async () => {
    const a = track(sqliteStore({ path, table: 'keys_a' }));
    const b = track(sqliteStore({ path, table: 'keys_b' }));
    expect(await a.begin(ref, 'fp', LEASE)).toMatchObject({ kind: 'acquired' });
    expect(await b.begin(ref, 'fp', LEASE)).toMatchObject({ kind: 'acquired' });
    expect(await b.list({ scope: ref.scope })).toMatchObject({ records: [{ key: 'k1' }] });
  });

  it('sweeps through the expiry index, then deletes by rowid (cost follows what it removes)', () => {
    const raw = track(new Database(path));
    ensureSchema(raw, 'oncekey_records');
    const sql = prepareStatements(raw, 'oncekey_records').sweepBatch.source;
    const plan = raw
      .prepare(`EXPLAIN QUERY PLAN ${sql}`)
      .all(0, 500)
      .map((r) => (r as { detail: string }).detail);
    expect(plan).toContainEqual(expect.stringMatching(/USING (COVERING )?INDEX oncekey_records_expires_at \(expires_at<\?\)/));
    expect(plan).toContainEqual(expect.stringMatching(/SEARCH oncekey_records USING INTEGER PRIMARY KEY \(rowid=\?\)/));
    expect(plan.join('\n')).not.toMatch(/SCAN oncekey_records/);
  });
});

describe('sqliteStore errors', () => {
  it('SQLITE_BUSY after the busy timeout is StoreUnavailableError; reads and later writes still work', async () => {
    const store = track(sqliteStore({ path, busyTimeoutMs: 0 }));
    const first = await store.begin(ref, 'fp', LEASE);
    const other = track(new Database(path));
    other.exec('BEGIN IMMEDIATE'); // another connection holds the write lock

    const error = (await rejection(store.begin({ ...ref, key: 'k2' }, 'fp', LEASE))) as StoreUnavailableError;
    expect(isStoreUnavailableError(error)).toBe(true);
    expect((error.cause as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
    if (first.kind !== 'acquired') throw new Error(first.kind);
    expect(isStoreUnavailableError(await rejection(store.commit(ref, first.token, 'x', 1000)))).toBe(true);
    // WAL: readers are not blocked by the writer.
    expect(await store.get(ref)).toMatchObject({ state: 'in_progress', token: first.token });

    other.exec('COMMIT');
    expect(await store.begin({ ...ref, key: 'k2' }, 'fp', LEASE)).toMatchObject({ kind: 'acquired' });
    await store.commit(ref, first.token, 'x', 1000);
  });

  it('every method on a closed store is StoreUnavailableError', async () => {
    const store = sqliteStore({ path });
    await store.close();
    await store.close(); // twice is fine
    const calls: Array<Promise<unknown>> = [
      store.begin(ref, 'fp', LEASE),
      store.commit(ref, 't', 'x', 1000),
      store.release(ref, 't'),
      store.extend(ref, 't', 1000),
      store.get(ref),
      store.delete(ref),
      store.list({ scope: ref.scope }),
      store.sweep(),
      store.ping(),
    ];
    for (const call of calls) expect(isStoreUnavailableError(await rejection(call))).toBe(true);
  });

  it('LeaseLostError says why the token failed', async () => {
    const clock = new FakeClock(T0);
    const store = track(sqliteStore({ path, clock }));
    const a = await store.begin(ref, 'fp', { leaseMs: 1000, ttlMs: 10_000 });
    if (a.kind !== 'acquired') throw new Error(a.kind);
    await clock.advance(1000);
    const b = await store.begin(ref, 'fp', { leaseMs: 1000, ttlMs: 10_000 });
    if (b.kind !== 'acquired') throw new Error(b.kind);

    const taken = await rejection(store.commit(ref, a.token, 'stale', 10_000));
    expect(isLeaseLostError(taken)).toBe(true);
    expect((taken as Error).message).toMatch(/taken over \(attempt 2\)/);
    await store.commit(ref, b.token, 'fresh', 10_000);
    expect(((await rejection(store.release(ref, b.token))) as Error).message).toMatch(/already completed/);
    await store.delete(ref);
    expect(((await rejection(store.extend(ref, b.token, 1000))) as Error).message).toMatch(/no longer exists/);
  });
});

describe('sqliteStore begin', () => {
  it('re-decides under the write lock when the record changes between its upsert and its read', async () => {
    const store = track(sqliteStore({ path }));
    const holder = await store.begin(ref, 'fp', LEASE);
    expect(holder).toMatchObject({ kind: 'acquired', attempt: 1 });

    // Another process releases the key right after this begin's upsert was refused: the read that
    // follows finds no record, so the answer must come from a locked retry, not from a guess.
    const other = track(new Database(path));
    const statementProto = Object.getPrototypeOf(other.prepare('SELECT 1')) as { get: (...args: unknown[]) => unknown };
    const originalGet = statementProto.get;
    let injected = 0;
    const spy = vi.spyOn(statementProto, 'get').mockImplementation(function (this: { source: string }, ...args: unknown[]) {
      if (injected === 0 && /^SELECT \* FROM "oncekey_records" WHERE scope = \? AND key = \?$/.test(this.source)) {
        injected++;
        other.prepare('DELETE FROM oncekey_records WHERE scope = ? AND key = ?').run(ref.scope, ref.key);
      }
      return originalGet.apply(this, args);
    });
    try {
      const again = await store.begin(ref, 'fp', LEASE);
      expect(injected).toBe(1);
      expect(again).toMatchObject({ kind: 'acquired', attempt: 1, recovered: false });
      expect(await store.get(ref)).toMatchObject({ token: (again as { token: string }).token });
    } finally {
      spy.mockRestore();
    }
  });
});
