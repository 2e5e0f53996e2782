/**
 * When PostgreSQL goes away. Policy (fail closed): every call fails within its deadline with
 * StoreUnavailableError; nothing is retried inside the store; the pool reconnects by itself.
 *
 * Crashes run on a private throwaway cluster (the shared server on 5432 is never stopped);
 * connection cuts and blackholes go through a TCP proxy in front of the shared server.
 * Each test asserts: no acknowledged commit lost, no effect ran twice, the same store instance
 * serves again after the outage, and only StoreUnavailableError came out of the store.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import pg from 'pg';
import { postgresStore, type PostgresStore } from '../src/store/postgres/index.js';
import { isStoreUnavailableError } from '../src/core/errors/store-unavailable.js';
import { describePostgres, POSTGRES_URL } from './helpers/services.js';
import { describePgCluster, startPgCluster, type PgCluster } from './helpers/pg-cluster.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';
import { pgTestBed, type PgTestBed } from './fixtures/pg-store.js';
import { keysOf, outcomeOf, runStoreLoad, summary, type LoadReport } from './helpers/store-load.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const KEYS = 240;

/** The invariants every outage must keep; `store` is the very instance that lived through it. */
async function expectNothingLostOrDoubled(store: PostgresStore, scope: string, report: LoadReport) {
  if (process.env.ONCEKEY_DEBUG) console.log(scope, summary(report));
  expect(report.violations).toEqual([]);
  // Nothing but StoreUnavailableError failed a call (another error would fail its key here).
  expect(report.unexpected.map(String)).toEqual([]);
  // Only typed errors left the store, and the outage really hit the workload.
  expect([...report.errors.keys()]).toEqual(['StoreUnavailableError']);
  // No effect ran twice (and every key ran once).
  expect(report.effects.size).toBe(KEYS);
  expect([...report.effects.values()].every((n) => n === 1)).toBe(true);
  // Every acknowledged commit survived the crash or the cut.
  expect(report.committed.size).toBe(KEYS);
  for (const [key, outcome] of report.committed) {
    expect(outcome, key).toBe(outcomeOf({ scope, key })); // the outcome of the key's first (only) run
    const record = await store.get({ scope, key });
    expect(record, key).toMatchObject({ state: 'completed', outcome });
  }
}

describePgCluster()('postgres store: server crashes (pg_ctl stop -m immediate) under load', () => {
  let cluster: PgCluster;
  beforeAll(async () => {
    cluster = await startPgCluster();
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('fails closed while down, loses no acknowledged commit, runs nothing twice, recovers by itself', async () => {
    const store = postgresStore({
      connectionString: cluster.url,
      table: 'crash_keys',
      maxConnections: 6,
      statementTimeoutMs: 1000,
      connectionTimeoutMs: 1000,
    });
    try {
      await store.migrate();
      // Each crash starts from the load's key-done callback itself, so it meets the run in flight
      // however fast it goes; the crashes run one after the other. 10 ms per effect keeps the run
      // going while the server is down and comes back.
      const CRASH_AT = [40, 120];
      const outages: number[] = [];
      let crashes = Promise.resolve();
      const work = runStoreLoad(store, {
        keys: keysOf(KEYS, 'crash'),
        concurrency: 8,
        lease: { leaseMs: 1500, ttlMs: 600_000 },
        effectMs: 10,
        onKeyDone: (n) => {
          if (!CRASH_AT.includes(n)) return;
          outages.push(n);
          crashes = crashes.then(async () => {
            await cluster.stop('immediate');
            // Down long enough for every owner to hit it; calls fail fast (connection refused).
            await sleep(400);
            await cluster.start();
          });
        },
      });
      const report = await work;
      await crashes;
      expect(outages).toEqual(CRASH_AT);
      expect(report.errors.get('StoreUnavailableError')).toBeGreaterThan(0);
      await expectNothingLostOrDoubled(store, 'crash', report);
    } finally {
      await store.close();
    }
  });
});

describePostgres()('postgres store: connections cut, blackholed, or a slow server', () => {
  let bed: PgTestBed;
  let proxy: TcpProxy;
  beforeAll(async () => {
    bed = pgTestBed(POSTGRES_URL!);
    const url = new URL(POSTGRES_URL!);
    proxy = await startTcpProxy({ host: url.hostname, port: Number(url.port || 5432) });
  });
  afterAll(async () => {
    await proxy?.close();
    await bed?.end();
  });

  const viaProxy = () => {
    const url = new URL(POSTGRES_URL!);
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    return url.toString();
  };

  it('connections cut mid-command (RST) under load: nothing lost or doubled, the pool reconnects', async () => {
    const store = await bed.create({
      connectionString: viaProxy(),
      maxConnections: 6,
      statementTimeoutMs: 1000,
      connectionTimeoutMs: 1000,
    });
    try {
      const acceptedBefore = proxy.accepted;
      const CUT_AT = [30, 80, 130, 180];
      const work = runStoreLoad(store, {
        keys: keysOf(KEYS, 'cut'),
        concurrency: 8,
        lease: { leaseMs: 1500, ttlMs: 600_000 },
        // No cost per effect here: a cut must find commands in flight (a cut of an idle pooled
        // connection is absorbed by the pool and fails no call), so the connections stay busy.
        // The cuts come from the load's key-done callback itself, so they meet the run in flight
        // however fast it goes (polling could find it finished).
        onKeyDone: (n) => {
          if (CUT_AT.includes(n)) proxy.cut();
        },
      });
      const report = await work;
      expect(report.errors.get('StoreUnavailableError')).toBeGreaterThan(0);
      await expectNothingLostOrDoubled(store, 'cut', report);
      expect(proxy.accepted).toBeGreaterThan(acceptedBefore); // new connections replaced the cut ones
    } finally {
      await bed.destroy(store);
    }
  });

  it('a blackholed link: every call returns StoreUnavailableError within its deadline, then the store serves again', async () => {
    const store = await bed.create({ connectionString: viaProxy(), maxConnections: 3, statementTimeoutMs: 200, connectionTimeoutMs: 200 });
    try {
      const held = await store.begin({ scope: 'bh', key: 'held' }, 'fp', { leaseMs: 60_000, ttlMs: 60_000 });
      expect(held.kind).toBe('acquired');
      if (held.kind !== 'acquired') return;
      proxy.blackhole();
      // More calls than connections: some wait for a connection, some for an answer.
      const calls = await Promise.allSettled([
        store.begin({ scope: 'bh', key: 'a' }, 'fp', { leaseMs: 60_000, ttlMs: 60_000 }),
        store.begin({ scope: 'bh', key: 'b' }, 'fp', { leaseMs: 60_000, ttlMs: 60_000 }),
        store.commit({ scope: 'bh', key: 'held' }, held.token, 'out', 60_000),
        store.get({ scope: 'bh', key: 'held' }),
        store.list({ scope: 'bh' }),
        store.ping(),
        store.sweep(),
      ]);
      for (const call of calls) {
        expect(call.status).toBe('rejected');
        expect(isStoreUnavailableError((call as PromiseRejectedResult).reason)).toBe(true);
      }
      proxy.resume();
      // Held bytes now reach the server (maybe executing late, as after a real partition);
      // the store itself needs no help to serve again.
      let fresh;
      for (;;) {
        try {
          fresh = await store.begin({ scope: 'bh', key: 'after' }, 'fp', { leaseMs: 60_000, ttlMs: 60_000 });
          break;
        } catch (error) {
          expect(isStoreUnavailableError(error)).toBe(true);
          await sleep(50);
        }
      }
      expect(fresh.kind).toBe('acquired');
      if (fresh.kind === 'acquired') await store.commit({ scope: 'bh', key: 'after' }, fresh.token, 'ok', 60_000);
      expect(await store.get({ scope: 'bh', key: 'after' })).toMatchObject({ state: 'completed', outcome: 'ok' });
      // The commit sent into the blackhole either landed late or not at all; never anything else.
      const record = await store.get({ scope: 'bh', key: 'held' });
      expect(record?.state === 'in_progress' || (record?.state === 'completed' && record.outcome === 'out')).toBe(true);
    } finally {
      proxy.resume();
      await bed.destroy(store);
    }
  });

  it("a pool passed in without any timeouts: the store's own deadline still bounds every call", async () => {
    // No connectionTimeoutMillis, no statement or query timeout: on its own this pool would wait forever.
    const pool = new pg.Pool({ connectionString: viaProxy(), max: 2 });
    pool.on('error', () => undefined);
    const store = await bed.create({ pool, statementTimeoutMs: 200, connectionTimeoutMs: 200 });
    try {
      await store.ping();
      proxy.blackhole();
      const calls = await Promise.allSettled([
        store.begin({ scope: 'user-pool', key: 'a' }, 'fp', { leaseMs: 60_000, ttlMs: 60_000 }),
        store.get({ scope: 'user-pool', key: 'a' }),
        store.ping(),
        store.ping(), // more calls than connections: this one waits for a connection
      ]);
      for (const call of calls) {
        expect(call.status).toBe('rejected');
        expect(isStoreUnavailableError((call as PromiseRejectedResult).reason)).toBe(true);
      }
      proxy.resume();
      for (;;) {
        try {
          await store.ping();
          break;
        } catch (error) {
          expect(isStoreUnavailableError(error)).toBe(true);
          await sleep(50);
        }
      }
    } finally {
      proxy.resume();
      await store.close();
      await bed.admin.query(`DROP TABLE IF EXISTS "${store.schema}"."${store.table}"`);
      await pool.end();
    }
  });

  it('a slow server (statement blocked on a lock): StoreUnavailableError after the statement timeout, then normal again', async () => {
    const store = await bed.create({ statementTimeoutMs: 200, connectionTimeoutMs: 1000 });
    const blocker = new pg.Client({ connectionString: POSTGRES_URL });
    await blocker.connect();
    try {
      const ref = { scope: 'slow', key: 'k' };
      const first = await store.begin(ref, 'fp', { leaseMs: 60_000, ttlMs: 60_000 });
      expect(first.kind).toBe('acquired');
      if (first.kind !== 'acquired') return;
      await blocker.query('BEGIN');
      await blocker.query(`SELECT 1 FROM "${store.schema}"."${store.table}" WHERE scope = 'slow' FOR UPDATE`);
      const blocked = await store.commit(ref, first.token, 'out', 60_000).catch((e: unknown) => e);
      expect(isStoreUnavailableError(blocked)).toBe(true);
      expect(String((blocked as Error).message)).toMatch(/57014|statement timeout/);
      await blocker.query('ROLLBACK');
      // The cancelled commit did not land; the token is still current, so the retry does.
      await store.commit(ref, first.token, 'out', 60_000);
      expect(await store.get(ref)).toMatchObject({ state: 'completed', outcome: 'out' });
    } finally {
      await blocker.end();
      await bed.destroy(store);
    }
  });
});
