/**
 * The shared circuit breaker on Redis (the suite is in fixtures/breaker-suite.ts): the breakers
 * share one hash under a prefix made for this run. For the outage, a private redis-server (no
 * persistence) is killed, then started again empty.
 */
import { Redis } from 'ioredis';
import { redisBreakerState } from 'oncekey/resilience';
import { recommendedRedisOptions } from '../src/store/redis/connection.js';
import { breakerSuite, type StoredSnapshot } from './fixtures/breaker-suite.js';
import { deleteKeysWithPrefix, uniquePrefix } from './helpers/redis-keys.js';
import { startRedisServer } from './helpers/redis-server.js';
import { describeRedis, REDIS_URL } from './helpers/services.js';

const snapshot = async (client: Redis, key: string): Promise<StoredSnapshot> =>
  JSON.parse((await client.hget(key, 's')) ?? 'null') as StoredSnapshot;

breakerSuite({
  store: 'Redis',
  describe: describeRedis(),
  fleetSize: 4,
  async connect() {
    const admin = new Redis(REDIS_URL!);
    const prefix = uniquePrefix('breaker');
    return {
      workerArgs: (name, threshold, halfOpenAfterMs) => [
        'redis',
        REDIS_URL!,
        `${prefix}${name}`,
        String(threshold),
        String(halfOpenAfterMs),
      ],
      stored: (name) => snapshot(admin, `${prefix}${name}`),
      async outage(name, { retryStoreAfterMs }) {
        const server = await startRedisServer();
        const client = new Redis(server.url, recommendedRedisOptions(300));
        client.on('error', () => {});
        const key = `${prefix}${name}`;
        return {
          state: redisBreakerState({ client, key, timeoutMs: 300, retryStoreAfterMs }),
          stored: () => snapshot(client, key),
          goAway: () => server.kill(),
          comeBack: () => server.start(), // no persistence: it starts empty
          async close() {
            client.disconnect();
            await server.destroy();
          },
        };
      },
      async close() {
        await deleteKeysWithPrefix(admin, prefix);
        await admin.quit();
      },
    };
  },
});
