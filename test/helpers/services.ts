/**
 * Which real servers the tests may use. A suite that needs PostgreSQL or Redis reads its URL
 * here: when the variable is unset it skips loudly, unless ONCEKEY_REQUIRE_SERVICES=1 (set by
 * CI), in which case a missing server fails the run.
 */
import { describe } from 'vitest';

export const POSTGRES_URL = process.env.ONCEKEY_TEST_POSTGRES_URL;
export const REDIS_URL = process.env.ONCEKEY_TEST_REDIS_URL;
const required = process.env.ONCEKEY_REQUIRE_SERVICES === '1';

function gate(name: string, variable: string, url: string | undefined): typeof describe {
  if (url) return describe;
  if (required) throw new Error(`${name} tests are required (ONCEKEY_REQUIRE_SERVICES=1) but ${variable} is not set`);
  console.warn(`\n*** SKIPPING ${name} tests: set ${variable} (e.g. ${variable}=${example[variable]}) to run them ***\n`);
  return describe.skip as unknown as typeof describe;
}

const example: Record<string, string> = {
  ONCEKEY_TEST_POSTGRES_URL: 'postgres://postgres@127.0.0.1:5432/test',
  ONCEKEY_TEST_REDIS_URL: 'redis://127.0.0.1:6379',
};

/** `describe` when PostgreSQL is configured, a loud skip otherwise. */
export const describePostgres = (): typeof describe => gate('PostgreSQL', 'ONCEKEY_TEST_POSTGRES_URL', POSTGRES_URL);
/** `describe` when Redis is configured, a loud skip otherwise. */
export const describeRedis = (): typeof describe => gate('Redis', 'ONCEKEY_TEST_REDIS_URL', REDIS_URL);
