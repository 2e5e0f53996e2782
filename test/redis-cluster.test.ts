/**
 * The shared conformance suite on a real local Redis Cluster (three masters started here on free
 * ports, torn down after), plus checks that the store's keys really spread over the masters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from 'ioredis';
import { runStoreConformance } from '../src/testing/conformance.js';
import { recommendedRedisOptions, redisStore } from '../src/store/redis/index.js';
import type { Store } from '../src/store/contract.js';
import { isStoreUnavailableError } from '../src/core/errors/store-unavailable.js';
import { describeRedis } from './helpers/services.js';
import { startRedisCluster } from './helpers/redis-cluster.js';
import type { RedisClusterHandle } from './helpers/redis-cluster.js';
import { deleteKeysWithPrefix, uniquePrefix } from './helpers/redis-keys.js';

// Generous: the suite is about semantics, and CI machines are busy (10 000 begins in flight).
const TIMEOUT_MS = 30_000;
describeRedis()('redis store on a 3-master cluster', () => {
  let cluster: RedisClusterHandle;
  let client: Cluster;
  const prefixes = new WeakMap<Store, string>();
  const run = uniquePrefix('cluster');
  let n = 0;

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    const { commandTimeout, maxRetriesPerRequest, enableAutoPipelining } = recommendedRedisOptions(TIMEOUT_MS);
    client = cluster.client({ enableAutoPipelining, redisOptions: { commandTimeout, maxRetriesPerRequest } });
  });
  afterAll(async () => {
    client?.disconnect(); // not quit(): the last test leaves a master dead
    await cluster?.destroy();
  });

  runStoreConformance('redis cluster', {
    create(clock) {
      const prefix = `${run}${n++}:`;
      const store = redisStore({ client, clock, prefix, commandTimeoutMs: TIMEOUT_MS });
      prefixes.set(store, prefix);
      return store;
    },
    async destroy(store) {
      await store.close();
      await deleteKeysWithPrefix(client, prefixes.get(store)!);
    },
  });

  describe('key placement', () => {
    it('spreads scopes over every master, and list and sweep reach all of them', async () => {
      const prefix = `${run}placement:`;
      let t = 1_700_000_000_000;
      const store = redisStore({ client, prefix, clock: { now: () => t }, commandTimeoutMs: TIMEOUT_MS });
      const scopes = Array.from({ length: 30 }, (_, i) => `tenant-${i}`);
      for (const scope of scopes) {
        for (const key of ['a', 'b']) {
          const got = await store.begin({ scope, key }, 'fp', { leaseMs: 1000, ttlMs: 5000 });
          expect(got.kind).toBe('acquired');
        }
      }
      // Every master holds some of the records (30 scopes hash to random slots over 3 masters).
      const perMaster = await Promise.all(
        client.nodes('master').map(async (node) => (await node.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 10_000))[1].length),
      );
      expect(perMaster.length).toBe(3);
      for (const count of perMaster) expect(count).toBeGreaterThan(0);
      expect(perMaster.reduce((a, b) => a + b, 0)).toBe(30 * 2); // 2 records per scope, no index

      for (const scope of scopes) {
        expect((await store.list({ scope })).records.map((r) => r.key)).toEqual(['a', 'b']);
      }
      t += 5000;
      expect(await store.sweep({ batchSize: 7 })).toBe(60);
      expect(await deleteKeysWithPrefix(client, prefix), 'sweep left nothing behind').toBe(0);
    });
  });

  describe('a master that dies (runs last: it breaks the cluster)', () => {
    it('fails calls for its scopes with StoreUnavailableError instead of hanging', async () => {
      const prefix = `${run}down:`;
      const store = redisStore({ client, prefix, commandTimeoutMs: 1000 });
      const scopes = Array.from({ length: 30 }, (_, i) => `tenant-${i}`);
      for (const scope of scopes) {
        const got = await store.begin({ scope, key: 'a' }, 'fp', { leaseMs: 1000, ttlMs: 60_000 });
        if (got.kind !== 'acquired') throw new Error(got.kind);
        await store.commit({ scope, key: 'a' }, got.token, `out-${scope}`, 60_000);
      }
      const victim = client.nodes('master')[0]!;
      const [, names] = await victim.scan('0', 'MATCH', `${prefix}*:r:a`, 'COUNT', 10_000);
      const victimScope = /\{([^}]*)\}/.exec(names[0]!)![1]!;
      const server = cluster.nodes.find((n) => n.port === victim.options.port)!;
      await server.kill('SIGKILL');

      const error = await store.begin({ scope: victimScope, key: 'a' }, 'fp', { leaseMs: 1000, ttlMs: 60_000 }).then(
        (value) => new Error(`begin succeeded: ${JSON.stringify(value)}`),
        (e: unknown) => e,
      );
      expect(isStoreUnavailableError(error), String(error)).toBe(true);
    });
  });
});
