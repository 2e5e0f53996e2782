/** The shared store conformance suite on single-node Redis (ONCEKEY_TEST_REDIS_URL). */
import { afterAll, beforeAll } from 'vitest';
import { Redis } from 'ioredis';
import { runStoreConformance } from '../src/testing/conformance.js';
import { recommendedRedisOptions, redisStore } from '../src/store/redis/index.js';
import type { Store } from '../src/store/contract.js';
import { REDIS_URL, describeRedis } from './helpers/services.js';
import { deleteKeysWithPrefix, uniquePrefix } from './helpers/redis-keys.js';

// Generous: the suite is about semantics, and CI machines are busy (10 000 begins in flight).
const TIMEOUT_MS = 30_000;
describeRedis()('redis store on one server', () => {
  let client: Redis;
  const prefixes = new WeakMap<Store, string>();
  const run = uniquePrefix('conformance');
  let n = 0;

  beforeAll(() => {
    client = new Redis(REDIS_URL!, recommendedRedisOptions(TIMEOUT_MS));
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(client, run);
    await client.quit();
  });

  runStoreConformance('redis', {
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
});
