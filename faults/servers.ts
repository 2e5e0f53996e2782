/**
 * Private servers for the scenarios that crash or cut them: a throwaway PostgreSQL cluster and a
 * private redis-server (the shared ones on 5432 and 6379 are never touched). Built on the test
 * helpers; when the binaries are missing the scenarios skip loudly, or fail when
 * ONCEKEY_REQUIRE_SERVICES=1 (CI).
 */
import { execFileSync } from 'node:child_process';
import pg from 'pg';
import { describe } from 'vitest';
import { type PgCluster, pgBinDir, startPgCluster } from '../test/helpers/pg-cluster.js';
import { type RedisServer, startRedisServer } from '../test/helpers/redis-server.js';
import type { StoreKind } from './fixtures/stores.js';
import { selected } from './harness.js';

export type { PgCluster, RedisServer };

function hasRedis(): boolean {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const missing: Record<StoreKind, string | undefined> = {
  sqlite: undefined,
  postgres: pgBinDir() ? undefined : 'PostgreSQL server binaries (initdb, pg_ctl) not found: set ONCEKEY_PG_BINDIR',
  redis: hasRedis() ? undefined : 'redis-server not found on PATH',
};

/** `describe` for a group of scenarios on `kind`, or a loud skip when its server cannot run here. */
export function describeStore(kind: StoreKind, name: string): typeof describe | typeof describe.skip {
  const reason = missing[kind];
  if (!selected(name)) return describe.skip;
  if (reason === undefined) return describe;
  if (process.env.ONCEKEY_REQUIRE_SERVICES === '1') throw new Error(`fault scenarios on ${kind} are required but ${reason}`);
  process.stderr.write(`\n*** SKIPPING ${name}: ${reason} ***\n`);
  return describe.skip;
}

/** A private cluster with the default durability (fsync on, synchronous_commit on). */
export function privatePg(): Promise<PgCluster> {
  return startPgCluster({ settings: { max_connections: '100' } });
}

/** A fresh database on the cluster, for one scenario; its URL. */
export async function pgDatabase(cluster: PgCluster, name: string): Promise<string> {
  const db = name.toLowerCase().replace(/[^a-z0-9]+/g, '_');
  const client = new pg.Client({ connectionString: cluster.url, connectionTimeoutMillis: 10_000, query_timeout: 30_000 });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${db}`);
  } finally {
    await client.end();
  }
  return cluster.url.replace(/\/postgres$/, `/${db}`);
}

/** A private redis-server; `durable`: AOF with appendfsync always (an acknowledged write survives kill -9). */
export function privateRedis(durable: boolean): Promise<RedisServer> {
  return startRedisServer({ args: durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : [] });
}
