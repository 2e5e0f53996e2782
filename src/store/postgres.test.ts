import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { postgresStore, SCHEMA_VERSION } from './postgres/index.js';
import { isStoreUnavailableError } from '../errors/store-unavailable.js';
import { isInvalidOptionError } from '../errors/invalid-option.js';
import { isLeaseLostError } from '../errors/lease-lost.js';
import { describePostgres, POSTGRES_URL } from '../../test/helpers/services.js';
import { pgTestBed, type PgTestBed } from '../../test/fixtures/pg-store.js';

const T0 = 1_700_000_000_000;
const clockAt = (t = T0) => {
  const c = { t, now: () => c.t };
  return c;
};

describePostgres()('postgresStore', () => {
  let bed: PgTestBed;
  beforeAll(() => {
    bed = pgTestBed(POSTGRES_URL!);
  });
  afterAll(async () => {
    await bed?.end();
  });

  it('rejects bad identifiers and unknown options at construction', () => {
    for (const bad of ['', 'Upper', 'a-b', 'x"; drop table y; --', 'a'.repeat(49), '1abc']) {
      expect(() => postgresStore({ table: bad })).toThrow(/postgresStore\.table/);
      expect(() => postgresStore({ schema: bad })).toThrow(/postgresStore\.schema/);
    }
    expect(() => postgresStore({ tabel: 'x' } as never)).toThrow(/tabel/);
    expect(() => postgresStore({ statementTimeoutMs: 0 })).toThrow(/statementTimeoutMs/);
    const pool = new pg.Pool();
    try {
      expect(() => postgresStore({ pool, connectionString: 'postgres://x' })).toThrow(/pool/);
    } finally {
      void pool.end();
    }
  });

  it('migrate() is versioned, idempotent and safe to run concurrently from many clients', async () => {
    const stores = Array.from({ length: 6 }, () =>
      postgresStore({ connectionString: POSTGRES_URL, schema: `${bed.schema}_m`, table: 'shared', maxConnections: 1 }));
    try {
      const results = await Promise.all(stores.map((s) => s.migrate()));
      expect(results.filter((r) => r.from === 0)).toHaveLength(1);
      expect(results.every((r) => r.to === SCHEMA_VERSION)).toBe(true);
      expect(await stores[0]!.migrate()).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
      const { rows } = await bed.admin.query(
        `SELECT version FROM "${bed.schema}_m".oncekey_schema_versions WHERE table_name = 'shared'`);
      expect(rows).toEqual([{ version: SCHEMA_VERSION }]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await bed.admin.query(`DROP SCHEMA IF EXISTS "${bed.schema}_m" CASCADE`);
    }
  });

  it('a store whose table was never migrated fails with StoreUnavailableError naming migrate()', async () => {
    const store = postgresStore({ connectionString: POSTGRES_URL, schema: bed.schema, table: 'never_migrated' });
    try {
      const error = await store.begin({ scope: 's', key: 'k' }, 'f', { leaseMs: 1000, ttlMs: 1000 }).catch((e: unknown) => e);
      expect(isStoreUnavailableError(error)).toBe(true);
      expect(String(error)).toMatch(/migrate\(\)/);
      expect((error as Error).cause).toBeDefined();
    } finally {
      await store.close();
    }
  });

  it('judges leases on the database server clock when no clock is injected', async () => {
    const store = await bed.create();
    try {
      const { rows } = await bed.admin.query<{ now: string }>(
        'SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now');
      const serverNow = Number(rows[0]!.now);
      const ref = { scope: 's', key: 'server-clock' };
      const first = await store.begin(ref, 'f', { leaseMs: 60_000, ttlMs: 120_000 });
      expect(first.kind).toBe('acquired');
      if (first.kind !== 'acquired') return;
      // The lease was stamped by the server, whatever this process's clock says.
      expect(first.leaseUntil - 60_000).toBeGreaterThanOrEqual(serverNow);
      const second = await store.begin(ref, 'f', { leaseMs: 60_000, ttlMs: 120_000 });
      expect(second.kind).toBe('in_progress');
      await store.commit(ref, first.token, 'done', 120_000);
      expect(await store.begin(ref, 'f', { leaseMs: 60_000, ttlMs: 120_000 })).toMatchObject({ kind: 'replay', outcome: 'done' });
    } finally {
      await bed.destroy(store);
    }
  });

  it('an injected clock overrides the server clock (skewed app servers agree with each other)', async () => {
    const clock = clockAt();
    const store = await bed.create({ clock });
    try {
      const ref = { scope: 's', key: 'k' };
      const a = await store.begin(ref, 'f', { leaseMs: 1000, ttlMs: 10_000 });
      expect(a).toMatchObject({ kind: 'acquired', attempt: 1, recovered: false, leaseUntil: T0 + 1000 });
      expect(await store.begin(ref, 'other', { leaseMs: 1000, ttlMs: 10_000 })).toEqual({ kind: 'mismatch', state: 'in_progress' });
      clock.t += 400;
      expect(await store.begin(ref, 'f', { leaseMs: 1000, ttlMs: 10_000 })).toEqual({
        kind: 'in_progress', attempt: 1, leaseUntil: T0 + 1000, retryAfterMs: 600,
      });
      clock.t = T0 + 1000;
      const b = await store.begin(ref, 'f', { leaseMs: 1000, ttlMs: 10_000 });
      expect(b).toMatchObject({ kind: 'acquired', attempt: 2, recovered: true, leaseUntil: T0 + 2000 });
      if (a.kind !== 'acquired' || b.kind !== 'acquired') return;
      await expect(store.commit(ref, a.token, 'stale', 10_000)).rejects.toSatisfy(isLeaseLostError);
      expect(await store.extend(ref, b.token, 5000)).toBe(T0 + 6000);
      await store.commit(ref, b.token, 'fresh', 10_000);
      expect(await store.get(ref)).toEqual({
        scope: 's', key: 'k', state: 'completed', fingerprint: 'f', attempt: 2,
        createdAt: T0, expiresAt: T0 + 11_000, outcome: 'fresh', completedAt: T0 + 1000,
      });
      clock.t = T0 + 11_000;
      expect(await store.get(ref)).toBeUndefined();
      expect(await store.begin(ref, 'other', { leaseMs: 1000, ttlMs: 10_000 })).toMatchObject({ kind: 'acquired', attempt: 1 });
    } finally {
      await bed.destroy(store);
    }
  });

  it('lists in code point order with keyset paging and sweeps only expired records, in batches', async () => {
    const clock = clockAt();
    const store = await bed.create({ clock });
    try {
      const keys = ['b', 'a', 'Z', '\u{1F600}', '\uE000', 'aa', 'k1', 'k2', 'k3', 'k10'];
      for (const key of keys) await store.begin({ scope: 'L', key }, 'f', { leaseMs: 100, ttlMs: 100 });
      await store.begin({ scope: 'other', key: 'x' }, 'f', { leaseMs: 100, ttlMs: 10_000 });
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.list({ scope: 'L', limit: 3, ...(cursor ? { cursor } : {}) });
        seen.push(...page.records.map((r) => r.key));
        cursor = page.cursor;
      } while (cursor);
      const codePointOrder = [...keys].sort((x, y) => (Buffer.compare(Buffer.from(x), Buffer.from(y))));
      expect(seen).toEqual(codePointOrder);
      await expect(store.list({ scope: 'L', cursor: 'garbage!' })).rejects.toSatisfy(isInvalidOptionError);
      clock.t += 100;
      expect(await store.list({ scope: 'L' })).toEqual({ records: [] });
      expect(await store.sweep({ batchSize: 3, maxBatches: 2 })).toBe(6);
      expect(await store.sweep({ batchSize: 3 })).toBe(4);
      expect(await store.sweep()).toBe(0);
      expect(await store.get({ scope: 'other', key: 'x' })).toMatchObject({ state: 'in_progress' });
      expect(await store.delete({ scope: 'other', key: 'x' })).toBe(true);
      expect(await store.delete({ scope: 'other', key: 'x' })).toBe(false);
    } finally {
      await bed.destroy(store);
    }
  });

  it('200 keys x 50 concurrent begins: exactly one acquired per key', async () => {
    const store = await bed.create({ clock: clockAt(), maxConnections: 8, connectionTimeoutMs: 60_000 });
    try {
      const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
      const results = await Promise.all(keys.flatMap((key) =>
        Array.from({ length: 50 }, () => store.begin({ scope: 'c', key }, 'f', { leaseMs: 60_000, ttlMs: 60_000 }))));
      const acquired = new Map<string, number>();
      results.forEach((r, i) => {
        if (r.kind === 'acquired') acquired.set(keys[Math.floor(i / 50)]!, (acquired.get(keys[Math.floor(i / 50)]!) ?? 0) + 1);
        else expect(r.kind).toBe('in_progress');
      });
      expect(acquired.size).toBe(200);
      expect([...acquired.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await bed.destroy(store);
    }
  });

  it('a closed store fails with StoreUnavailableError, a pool passed in stays open', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    const store = await bed.create({ pool });
    try {
      await store.ping();
      await store.close();
      await expect(store.ping()).rejects.toSatisfy(isStoreUnavailableError);
      expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await bed.admin.query(`DROP TABLE IF EXISTS "${store.schema}"."${store.table}"`);
      await pool.end();
    }
  });
});
