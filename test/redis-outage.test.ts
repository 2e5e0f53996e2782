/**
 * The Redis store when Redis goes away, on private redis-server processes (never the shared one):
 * killed and restarted under load, a connection cut mid-command, a link that silently drops
 * everything, a server that is simply down. Each test counts how often every effect ran.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { redisStore } from '../src/store/redis/index.js';
import type { KeyRef, Store } from '../src/store/contract.js';
import { isStoreUnavailableError } from '../src/core/errors/store-unavailable.js';
import { describeRedis } from './helpers/services.js';
import { startRedisServer } from './helpers/redis-server.js';
import type { RedisServer } from './helpers/redis-server.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import type { TcpProxy } from './helpers/tcp-proxy.js';
import { keysOf, outcomeOf, runStoreLoad, summary } from './helpers/store-load.js';
import type { LoadOptions, LoadReport } from './helpers/store-load.js';

const LEASE = { leaseMs: 1000, ttlMs: 600_000 };

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

function expectEachEffectOnce(report: LoadReport, keys: readonly KeyRef[]): void {
  expect(report.unexpected.map(String)).toEqual([]);
  expect(report.violations).toEqual([]);
  // Nothing but StoreUnavailableError came out of the store.
  expect([...report.errors.keys()]).toEqual(['StoreUnavailableError']);
  expect(report.committed.size).toBe(keys.length);
  const twice = [...report.effects].filter(([, n]) => n !== 1);
  expect(twice, 'effects that ran more than once').toEqual([]);
  expect(report.effects.size).toBe(keys.length);
}

/** Every key completed with its outcome, read through a fresh store (a new connection). */
async function expectAllCompleted(url: string, keys: readonly KeyRef[]): Promise<void> {
  const store = redisStore({ client: url });
  try {
    for (const ref of keys) {
      const record = await store.get(ref);
      expect(record, ref.key).toMatchObject({ state: 'completed', outcome: outcomeOf(ref) });
    }
  } finally {
    await store.close();
  }
}

async function expectUnavailable(call: Promise<unknown>, what: string): Promise<void> {
  const error = await call.then(
    (value) => new Error(`${what} succeeded: ${JSON.stringify(value)}`),
    (e: unknown) => e,
  );
  expect(isStoreUnavailableError(error), `${what}: ${String(error)}`).toBe(true);
}

/** Retry until the store answers again; bounded. */
async function untilReachable(store: Store): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      await store.ping();
      return;
    } catch {
      await sleep(50);
    }
  }
  throw new Error('store did not recover');
}

describeRedis()('redis store outages', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  });
  const server = async (args: string[] = []): Promise<RedisServer> => {
    const s = await startRedisServer({ args });
    cleanups.push(() => s.destroy());
    return s;
  };
  const proxy = async (target: RedisServer): Promise<TcpProxy> => {
    const p = await startTcpProxy({ host: '127.0.0.1', port: target.port });
    cleanups.push(() => p.close());
    return p;
  };
  const store = (client: string | Redis, commandTimeoutMs = 1000): Store => {
    const s = redisStore({ client, commandTimeoutMs });
    cleanups.push(() => s.close());
    return s;
  };

  describe('kill -9 and restart under load', () => {
    it('with appendfsync always: no effect runs twice, no acknowledged commit is lost, the store recovers by itself', async () => {
      const redis = await server(['--appendonly', 'yes', '--appendfsync', 'always']);
      const s = store(redis.url);
      const keys = keysOf(400, 'orders');
      let ackedBeforeCrash: string[] = [];
      let crash: Promise<void> | undefined;
      // The kill is sent from the load's own completion callback, so it meets work in flight
      // however fast the store runs (polling could find the whole run finished).
      const onKeyDone: LoadOptions['onKeyDone'] = (done, live) => {
        if (done !== 100 || crash) return;
        ackedBeforeCrash = [...live.committed.keys()];
        crash = (async () => {
          await redis.kill('SIGKILL');
          await sleep(300);
          await redis.start(); // same dir: Redis replays its AOF
        })();
      };
      const report = await runStoreLoad(s, { keys, concurrency: 16, lease: LEASE, deadlineMs: 60_000, onKeyDone });
      await crash;

      if (process.env.ONCEKEY_DEBUG) console.log('kill', summary(report));
      expectEachEffectOnce(report, keys);
      expect(ackedBeforeCrash.length).toBeGreaterThanOrEqual(100);
      expect(total(report.unavailable), 'the crash failed some calls').toBeGreaterThan(0);
      await expectAllCompleted(redis.url, keys);
    });

    it('without persistence (appendonly no, no RDB), a restart forgets acknowledged records: durability is the server setting', async () => {
      const redis = await server(['--appendonly', 'no']);
      const s = store(redis.url);
      const ref = { scope: 'orders', key: 'forgotten' };
      const got = await s.begin(ref, 'fp', LEASE);
      if (got.kind !== 'acquired') throw new Error(`expected acquired, got ${got.kind}`);
      await s.commit(ref, got.token, 'paid', LEASE.ttlMs);
      expect(await s.get(ref)).toMatchObject({ state: 'completed' });

      await redis.kill('SIGKILL');
      await redis.start();
      await untilReachable(s);
      expect(await s.get(ref)).toBeUndefined();
      // A retry of that key would run again: the documented reason to enable appendfsync.
      expect(await s.begin(ref, 'fp', LEASE)).toMatchObject({ kind: 'acquired', attempt: 1, recovered: false });
    });
  });

  describe('a connection cut mid-command', () => {
    it('fails the calls in flight with StoreUnavailableError, runs no effect twice, and reconnects by itself', async () => {
      const redis = await server();
      const link = await proxy(redis);
      const s = store(`redis://127.0.0.1:${link.port}`);
      const keys = keysOf(400, 'orders');
      let cuts = 0;
      // Cut after every 60 keys, from the load's own completion callback: each cut meets the
      // other workers' commands in flight, however fast the store runs.
      const onKeyDone = (done: number) => {
        if (cuts < 5 && done === (cuts + 1) * 60) {
          cuts++;
          link.cut();
        }
      };
      const report = await runStoreLoad(s, { keys, concurrency: 32, lease: LEASE, deadlineMs: 60_000, onKeyDone });

      if (process.env.ONCEKEY_DEBUG) console.log('cut', summary(report));
      expectEachEffectOnce(report, keys);
      expect(cuts).toBe(5);
      expect(total(report.unavailable), 'the cuts failed some calls').toBeGreaterThan(0);
      // A cut that lands while the client is still connecting may leave that socket alone, so the
      // exact count varies; every key completing after the last cut is what proves recovery.
      expect(link.accepted, 'the client reconnected after the cuts').toBeGreaterThan(1);
      await expectAllCompleted(redis.url, keys);
    });
  });

  describe('a link that drops everything silently (no reset)', () => {
    it('fails calls with StoreUnavailableError instead of hanging; once healed, the same store works', async () => {
      const redis = await server();
      const link = await proxy(redis);
      const s = store(`redis://127.0.0.1:${link.port}`, 300);
      // Warm up: the server knows the begin script, as it does in steady state.
      expect(await s.begin({ scope: 'orders', key: 'before' }, 'fp', LEASE)).toMatchObject({ kind: 'acquired' });
      const late = { scope: 'orders', key: 'late' };

      link.blackhole();
      await expectUnavailable(s.begin(late, 'fp', { leaseMs: 60_000, ttlMs: 600_000 }), 'begin while blackholed');
      await expectUnavailable(s.ping(), 'ping while blackholed');
      link.resume();
      await untilReachable(s);

      expect(await s.begin({ scope: 'orders', key: 'after' }, 'fp', LEASE)).toMatchObject({ kind: 'acquired' });
      // The begin that timed out was delivered when the link healed: it holds its key for one lease
      // (nobody runs it, then a retry takes it over). Fencing makes such late arrivals harmless.
      expect(await s.begin(late, 'fp', LEASE)).toMatchObject({ kind: 'in_progress', attempt: 1 });
    });
  });

  describe('Redis down', () => {
    it('every call fails with StoreUnavailableError, also through a caller-owned client with ioredis defaults; both recover', async () => {
      const redis = await server();
      const owned = store(redis.url, 500);
      // ioredis defaults: offline queue on, 20 retries per request. The store's own timer still bounds each call.
      const client = new Redis(redis.url);
      client.on('error', () => {});
      cleanups.push(async () => client.disconnect());
      const borrowed = store(client, 500);
      await owned.ping();
      await borrowed.ping();

      await redis.kill('SIGKILL');
      for (const [name, s] of [
        ['owned', owned],
        ['borrowed', borrowed],
      ] as const) {
        await Promise.all([
          expectUnavailable(s.begin({ scope: name, key: 'k' }, 'fp', LEASE), `${name} begin`),
          expectUnavailable(s.get({ scope: name, key: 'k' }), `${name} get`),
          expectUnavailable(s.list({ scope: name }), `${name} list`),
          expectUnavailable(s.sweep(), `${name} sweep`),
          expectUnavailable(s.ping(), `${name} ping`),
        ]);
      }

      await redis.start();
      for (const s of [owned, borrowed]) {
        await untilReachable(s);
        const ref = { scope: 'after', key: s === owned ? 'owned' : 'borrowed' };
        const got = await s.begin(ref, 'fp', LEASE);
        if (got.kind !== 'acquired') throw new Error(`expected acquired, got ${JSON.stringify(got)}`);
        await s.commit(ref, got.token, 'ok', LEASE.ttlMs);
        expect(await s.begin(ref, 'fp', LEASE)).toMatchObject({ kind: 'replay', outcome: 'ok' });
      }
    });
  });
});
