/**
 * A store whose server cannot be reached says so the same way for PostgreSQL and Redis: what was
 * tried, where (the URL, password hidden) and the system's reason — not the driver's internals
 * (ioredis said "Reached the max retries per request limit (which is 0)").
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { isStoreUnavailableError } from '../src/core/errors/store-unavailable.js';
import type { Store } from '../src/store/contract.js';
import { postgresStore } from '../src/store/postgres/index.js';
import { redisStore } from '../src/store/redis/index.js';
import { freePort } from './helpers/ports.js';

const ref = { scope: 's', key: 'k' };
const stores: Store[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((store) => store.close()));
});

async function failure(store: Store): Promise<Error> {
  stores.push(store);
  const error = await store.begin(ref, 'fp', { leaseMs: 1000, ttlMs: 1000 }).then(
    () => expect.fail('begin succeeded without a server'),
    (e: unknown) => e as Error,
  );
  expect(isStoreUnavailableError(error)).toBe(true);
  return error;
}

describe('a store whose server is not there', () => {
  it('PostgreSQL: cannot reach the URL, password hidden, connection refused', async () => {
    const port = await freePort();
    const error = await failure(postgresStore({ connectionString: `postgres://app:hunter2@127.0.0.1:${port}/app` }));
    expect(error.message).toBe(
      `store postgres unavailable: begin: cannot reach postgres://app:***@127.0.0.1:${port}/app (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
  });

  it('Redis from a URL: the same words', async () => {
    const port = await freePort();
    const error = await failure(redisStore({ client: `redis://:hunter2@127.0.0.1:${port}` }));
    expect(error.message).toBe(
      `store redis unavailable: begin: cannot reach redis://:***@127.0.0.1:${port} (connect ECONNREFUSED 127.0.0.1:${port})`,
    );
  });

  it("Redis on the caller's client: where, and the connection's state (its error listeners are the caller's)", async () => {
    const port = await freePort();
    const client = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, lazyConnect: true });
    client.on('error', () => {});
    try {
      const error = await failure(redisStore({ client, commandTimeoutMs: 1000 }));
      expect(error.message).toMatch(
        new RegExp(`^store redis unavailable: begin: cannot reach redis://127\\.0\\.0\\.1:${port} \\(connection \\w+`),
      );
      expect(client.listenerCount('error')).toBe(1);
    } finally {
      client.disconnect();
    }
  });
});
