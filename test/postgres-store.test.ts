import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { postgresStore, SCHEMA_VERSION, type PostgresStore } from '../src/store/postgres/index.js';
import { runStoreConformance } from '../src/testing/conformance.js';
import { isStoreUnavailableError } from '../src/core/errors/store-unavailable.js';
import { describePostgres, POSTGRES_URL } from './helpers/services.js';
import { pgTestBed, type PgTestBed } from './fixtures/pg-store.js';

describePostgres()('postgresStore', () => {
  let bed: PgTestBed;
  // One pool for every conformance store (each on its own table): no connection churn.
  let pool: pg.Pool;
  beforeAll(() => {
    bed = pgTestBed(POSTGRES_URL!);
    pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 8 });
    pool.on('error', () => undefined);
  });
  afterAll(async () => {
    await pool?.end();
    await bed?.end();
  });

  runStoreConformance('postgres', {
    // A generous connection deadline: the concurrency test queues 10 000 begins on 8 connections.
    create: (clock) => bed.create({ pool, clock, connectionTimeoutMs: 120_000 }),
    destroy: (store) => bed.destroy(store as PostgresStore),
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
      postgresStore({ connectionString: POSTGRES_URL, schema: `${bed.schema}_m`, table: 'shared', maxConnections: 1 }),
    );
    try {
      const results = await Promise.all(stores.map((s) => s.migrate()));
      expect(results.filter((r) => r.from === 0)).toHaveLength(1);
      expect(results.every((r) => r.to === SCHEMA_VERSION)).toBe(true);
      expect(await stores[0]!.migrate()).toEqual({ from: SCHEMA_VERSION, to: SCHEMA_VERSION });
      const { rows } = await bed.admin.query(`SELECT version FROM "${bed.schema}_m".oncekey_schema_versions WHERE table_name = 'shared'`);
      expect(rows).toEqual([{ version: SCHEMA_VERSION }]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
      await bed.admin.query(`DROP SCHEMA IF EXISTS "${bed.schema}_m" CASCADE`);
    }
  });

  it('migrate() upgrades a version 1 table in place: its records stay, begin uses the new function', async () => {
    const store = await bed.create();
    try {
      const ref = { scope: 's', key: 'kept' };
      const first = await store.begin(ref, 'f', { leaseMs: 60_000, ttlMs: 120_000 });
      if (first.kind !== 'acquired') throw new Error(`expected acquired, got ${first.kind}`);
      await store.commit(ref, first.token, 'from v1', 120_000);
      // Back to what version 1 left: no begin2 function, version 1 recorded.
      await bed.admin.query(`DROP FUNCTION "${store.schema}"."${store.table}_begin2"`);
      await bed.admin.query(`UPDATE "${store.schema}".oncekey_schema_versions SET version = 1 WHERE table_name = $1`, [store.table]);
      await expect(store.begin(ref, 'f', { leaseMs: 60_000, ttlMs: 120_000 })).rejects.toThrow(/migrate\(\)/);
      expect(await store.migrate()).toEqual({ from: 1, to: SCHEMA_VERSION });
      expect(await store.begin(ref, 'f', { leaseMs: 60_000, ttlMs: 120_000 })).toMatchObject({ kind: 'replay', outcome: 'from v1' });
    } finally {
      await bed.destroy(store);
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
      const { rows } = await bed.admin.query<{ now: string }>('SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now');
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

  it("replays every byte of an outcome whatever the session's bytea_output", async () => {
    // begin's answer carries the outcome as base64; get reads the bytea column, whose text form
    // follows bytea_output. Neither may change a byte.
    const outcome = 'nul\u0000 back\\slash "quote", (paren) \u00e9\u{1F600} \\x41';
    for (const format of ['hex', 'escape']) {
      const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1, options: `-c bytea_output=${format}` });
      pool.on('error', () => undefined);
      const store = await bed.create({ pool });
      try {
        const ref = { scope: 's,(x)"', key: `bytea-${format}` };
        const first = await store.begin(ref, 'f\u0000p', { leaseMs: 60_000, ttlMs: 120_000 });
        if (first.kind !== 'acquired') throw new Error(`expected acquired, got ${first.kind}`);
        await store.commit(ref, first.token, outcome, 120_000);
        const again = await store.begin(ref, 'f\u0000p', { leaseMs: 60_000, ttlMs: 120_000 });
        expect(again).toMatchObject({ kind: 'replay', outcome });
        expect(await store.get(ref)).toMatchObject({ state: 'completed', outcome });
        expect(await store.begin(ref, 'other', { leaseMs: 60_000, ttlMs: 120_000 })).toEqual({ kind: 'mismatch', state: 'completed' });
      } finally {
        await store.close();
        await bed.admin.query(`DROP TABLE IF EXISTS "${store.schema}"."${store.table}"`);
        await pool.end();
      }
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
