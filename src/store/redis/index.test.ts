/**
 * What the conformance suite cannot see: options, the server's clock, Redis TTLs against the
 * logical expiry, key naming, and scripts the server forgot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { redisStore, recommendedRedisOptions } from './index.js';
import { escapeScope, KeySpace } from './keys.js';
import { isInvalidOptionError } from '../../errors/invalid-option.js';
import { REDIS_URL, describeRedis } from '../../../test/helpers/services.js';
import { deleteKeysWithPrefix, uniquePrefix } from '../../../test/helpers/redis-keys.js';
import { startRedisServer } from '../../../test/helpers/redis-server.js';

const LEASE = { leaseMs: 1000, ttlMs: 60_000 };

function expectInvalidOption(make: () => unknown, option: string): void {
  let error: unknown;
  try {
    make();
  } catch (e) {
    error = e;
  }
  expect(isInvalidOptionError(error), String(error)).toBe(true);
  expect((error as { option: string }).option).toBe(option);
}

describe('redis key names', () => {
  it('escape the scope reversibly, without braces, and never as an empty hash tag', () => {
    expect(escapeScope('')).toBe('%');
    expect(escapeScope('%')).toBe('%25');
    expect(escapeScope('a{b}c%')).toBe('a%7Bb%7Dc%25');
    const scopes = ['', '%', '%25', '{', '}', '{}', 'a}', 'a%7D', 'tenant-a'];
    const escaped = scopes.map(escapeScope);
    expect(new Set(escaped).size).toBe(scopes.length);
    for (const e of escaped) expect(e).not.toMatch(/[{}]/);
  });

  it('recognise only real index names when sweeping', () => {
    const ks = new KeySpace('p:');
    expect(ks.recordPrefixOfIndex(ks.index('a{b}'))).toBe(ks.recordPrefix('a{b}'));
    // A record whose key ends like an index name is not an index.
    expect(ks.recordPrefixOfIndex(ks.record('s', 'x}:i'))).toBeUndefined();
    expect(ks.recordPrefixOfIndex('other:{s}:i')).toBeUndefined();
  });
});

describe('redisStore options', () => {
  const client = 'redis://127.0.0.1:1'; // never contacted: construction fails first
  it('rejects unknown options and bad values at construction', () => {
    expectInvalidOption(() => redisStore({ client, leese: 1 } as never), 'redisStore.leese');
    expectInvalidOption(() => redisStore({ client, prefix: 'a{b' }), 'redisStore.prefix');
    expectInvalidOption(() => redisStore({ client, commandTimeoutMs: 0 }), 'redisStore.commandTimeoutMs');
    expectInvalidOption(() => redisStore({ client, clock: {} as never }), 'redisStore.clock');
    expectInvalidOption(() => redisStore({ client: 42 as never }), 'redisStore.client');
    expectInvalidOption(() => redisStore(undefined as never), 'redisStore.client');
  });
});

describeRedis()('redis store on one server: time, TTLs, scripts', () => {
  let admin: Redis;
  const run = uniquePrefix('unit');
  let n = 0;
  const prefix = () => `${run}${n++}:`;

  beforeAll(() => {
    admin = new Redis(REDIS_URL!, recommendedRedisOptions());
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(admin, run);
    await admin.quit();
  });

  const serverNow = async () => {
    const [s, us] = (await admin.time()) as [number | string, number | string];
    return Number(s) * 1000 + Math.floor(Number(us) / 1000);
  };

  it('without a clock, judges time by the Redis server and sets TTLs exactly at expiresAt', async () => {
    const p = prefix();
    const store = redisStore({ client: admin, prefix: p });
    const ref = { scope: 's', key: 'k' };
    const before = await serverNow();
    const got = await store.begin(ref, 'fp', LEASE);
    const after = await serverNow();
    if (got.kind !== 'acquired') throw new Error(got.kind);
    expect(got.leaseUntil - LEASE.leaseMs).toBeGreaterThanOrEqual(before);
    expect(got.leaseUntil - LEASE.leaseMs).toBeLessThanOrEqual(after);

    const record = await store.get(ref);
    const name = new KeySpace(p).record('s', 'k');
    expect(Number(await admin.call('PEXPIRETIME', name))).toBe(record!.expiresAt);

    await store.commit(ref, got.token, 'out', 120_000);
    const done = await store.get(ref);
    expect(done).toMatchObject({ state: 'completed', outcome: 'out' });
    expect(done!.expiresAt - done!.completedAt!).toBe(120_000);
    expect(Number(await admin.call('PEXPIRETIME', name))).toBe(done!.expiresAt);
  });

  it('with an injected clock far from real time, Redis keeps records past their logical life and sweep removes them', async () => {
    const p = prefix();
    let t = 1_000_000_000_000; // 2001, years behind the server
    const store = redisStore({ client: admin, prefix: p, clock: { now: () => t } });
    const ref = { scope: 's', key: 'k' };
    const got = await store.begin(ref, 'fp', { leaseMs: 100, ttlMs: 200 });
    if (got.kind !== 'acquired') throw new Error(got.kind);
    await store.commit(ref, got.token, 'out', 200);
    const name = new KeySpace(p).record('s', 'k');
    // The TTL is relative to the server's clock and covers at least the logical 200 ms.
    expect(await admin.pttl(name)).toBeGreaterThan(200);

    t += 199;
    expect(await store.get(ref)).toMatchObject({ state: 'completed' });
    t += 1;
    expect(await store.get(ref), 'expired at expiresAt').toBeUndefined();
    expect(await admin.exists(name), 'still held by Redis').toBe(1);
    expect(await store.sweep()).toBe(1);
    expect(await deleteKeysWithPrefix(admin, p), 'sweep removed the record and its index').toBe(0);
  });

  it('keeps scopes and keys apart whatever characters they hold', async () => {
    const store = redisStore({ client: admin, prefix: prefix(), clock: { now: () => 1_700_000_000_000 } });
    const refs = [
      { scope: '', key: '' },
      { scope: '', key: 'a' },
      { scope: 'a', key: '' },
      { scope: 'a}', key: 'b' },
      { scope: 'a', key: '}b' },
      { scope: 'a%7D', key: 'b' },
      { scope: '{a}', key: 'b' },
      { scope: 'a', key: 'b}:i' },
      { scope: 'a:r:b', key: 'c' },
      { scope: 'a', key: 'b:r:c' },
    ];
    for (const [i, ref] of refs.entries()) {
      const got = await store.begin(ref, `fp${i}`, LEASE);
      if (got.kind !== 'acquired') throw new Error(`${JSON.stringify(ref)}: ${got.kind}`);
      await store.commit(ref, got.token, `out${i}`, LEASE.ttlMs);
    }
    for (const [i, ref] of refs.entries()) {
      expect(await store.begin(ref, `fp${i}`, LEASE), JSON.stringify(ref)).toMatchObject({ kind: 'replay', outcome: `out${i}` });
    }
    const byScope = new Map<string, string[]>();
    for (const ref of refs) byScope.set(ref.scope, [...(byScope.get(ref.scope) ?? []), ref.key]);
    for (const [scope, keys] of byScope) {
      expect((await store.list({ scope })).records.map((r) => r.key), JSON.stringify(scope)).toEqual(
        keys.sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))),
      );
    }
    expect(await store.sweep()).toBe(0);
  });

  it('reloads its scripts when the server forgot them (restart, fail-over, SCRIPT FLUSH)', async () => {
    const server = await startRedisServer();
    const store = redisStore({ client: server.url, clock: { now: () => 1_700_000_000_000 } });
    try {
      const ref = { scope: 's', key: 'k' };
      const got = await store.begin(ref, 'fp', LEASE);
      if (got.kind !== 'acquired') throw new Error(got.kind);
      const client = new Redis(server.url);
      await client.script('FLUSH');
      client.disconnect();
      await store.commit(ref, got.token, 'out', LEASE.ttlMs);
      expect(await store.begin(ref, 'fp', LEASE)).toMatchObject({ kind: 'replay', outcome: 'out' });
    } finally {
      await store.close();
      await server.destroy();
    }
  });

  it('fails closed after close()', async () => {
    const store = redisStore({ client: REDIS_URL!, prefix: prefix() });
    await store.ping();
    await store.close();
    await expect(store.get({ scope: 's', key: 'k' })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
  });
});
