/**
 * The PostgreSQL and Redis servers the benchmarks may use: the URL from the environment (the same
 * variables as the tests), else the local default, and whether it answers right now. A topic whose
 * server does not answer is skipped with a clear line rather than failing the whole run.
 */
import { Redis } from 'ioredis';
import pg from 'pg';
import { redact } from '../../src/core/url.js';

export const DEFAULT_POSTGRES_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export function postgresUrl(): string {
  return process.env.ONCEKEY_BENCH_POSTGRES_URL ?? process.env.ONCEKEY_TEST_POSTGRES_URL ?? DEFAULT_POSTGRES_URL;
}

export function redisUrl(): string {
  return process.env.ONCEKEY_BENCH_REDIS_URL ?? process.env.ONCEKEY_TEST_REDIS_URL ?? DEFAULT_REDIS_URL;
}

/** Undefined when the server answers `SELECT 1` within 3 s, else why not. */
export async function postgresProblem(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return `PostgreSQL at ${redact(url)} did not answer (${(error as Error).message}); set ONCEKEY_TEST_POSTGRES_URL`;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Undefined when the server answers PING within 3 s, else why not. */
export async function redisProblem(url: string): Promise<string | undefined> {
  const client = new Redis(url, { lazyConnect: true, connectTimeout: 3000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return undefined;
  } catch (error) {
    return `Redis at ${redact(url)} did not answer (${(error as Error).message}); set ONCEKEY_TEST_REDIS_URL`;
  } finally {
    client.disconnect();
  }
}

/** Delete every key matching `pattern` with SCAN + UNLINK (never FLUSHALL: the server is shared). */
export async function deleteRedisKeys(url: string, pattern: string): Promise<number> {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  let removed = 0;
  try {
    let cursor = '0';
    do {
      const [next, names] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 5000);
      cursor = next;
      if (names.length > 0) removed += await client.unlink(...names);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return removed;
}
