/**
 * What the conformance suite cannot see: options, the server's clock, Redis TTLs against the
 * logical expiry, key naming, and scripts the server forgot.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { redisStore, recommendedRedisOptions } from '../src/store/redis/index.js';
import { escapeScope, KeySpace } from '../src/store/redis/keys.js';
import { isInvalidOptionError } from '../src/core/errors/invalid-option.js';
import { REDIS_URL, describeRedis } from './helpers/services.js';
import { deleteKeysWithPrefix, uniquePrefix } from './helpers/redis-keys.js';
import { startRedisServer } from './helpers/redis-server.js';

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

  it('find the scope tag of record names when sweeping, and only of ours', () => {
    const ks = new KeySpace('p:');
    expect(ks.tagOf(ks.record('a{b}', 'k'))).toBe(ks.scopeTag('a{b}'));
    expect(ks.tagOf(ks.record('s', 'x}:r:y'))).toBe(ks.scopeTag('s'));
    expect(ks.tagOf('other:{s}:r:k')).toBeUndefined();
    expect(ks.tagOf('p:{s}:i')).toBeUndefined();
    expect(ks.tagOf('p:{}:r:k')).toBeUndefined();
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

  it('without a clock, judges time by the Redis server; Redis drops a record exactly at expiresAt', async () => {
    const p = prefix();
    const store = redisStore({ client: admin, prefix: p });
    const ref = { scope: 's', key: 'k' };
    const before = await serverNow();
    const got = await store.begin(ref, 'fp', LEASE);
    const after = await serverNow();
    if (got.kind !== 'acquired') throw new Error(got.kind);

    // The fresh record's times are the server's: createdAt is when Redis ran the SET.
    const record = await store.get(ref);
    expect(record).toMatchObject({ state: 'in_progress', token: got.token, attempt: 1 });
    expect(record!.createdAt).toBeGreaterThanOrEqual(before);
    expect(record!.createdAt).toBeLessThanOrEqual(after);
    expect(record!.leaseUntil).toBe(record!.createdAt + LEASE.leaseMs);
    expect(record!.expiresAt).toBe(record!.createdAt + LEASE.ttlMs);
    // Redis removes a key once its time is past the expiry: at expiresAt exactly.
    const name = new KeySpace(p).record('s', 'k');
    expect(Number(await admin.call('PEXPIRETIME', name))).toBe(record!.expiresAt - 1);

    await store.commit(ref, got.token, 'out', 120_000);
    const done = await store.get(ref);
    expect(done).toMatchObject({ state: 'completed', outcome: 'out', createdAt: record!.createdAt });
    expect(done!.expiresAt - done!.completedAt!).toBe(120_000);
    expect(Number(await admin.call('PEXPIRETIME', name))).toBe(done!.expiresAt - 1);
  });

  it('on the server clock, every answer of begin is right for a fresh record and after it', async () => {
    const store = redisStore({ client: admin, prefix: prefix() });
    const ref = { scope: 's', key: 'k' };
    const lease = { leaseMs: 300, ttlMs: 60_000 };
    const first = await store.begin(ref, 'fp', lease);
    if (first.kind !== 'acquired') throw new Error(first.kind);
    // Same fingerprint while the lease is live: in_progress, judged on the server's clock.
    const busy = await store.begin(ref, 'fp', lease);
    if (busy.kind !== 'in_progress') throw new Error(busy.kind);
    expect(busy.attempt).toBe(1);
    expect(busy.retryAfterMs).toBeGreaterThan(0);
    expect(busy.retryAfterMs).toBeLessThanOrEqual(lease.leaseMs);
    expect(await store.begin(ref, 'other', lease)).toEqual({ kind: 'mismatch', state: 'in_progress' });
    // extend on a fresh record: the lease moves, fenced by the token.
    const extended = await store.extend(ref, first.token, 400);
    expect((await store.get(ref))!.leaseUntil).toBe(extended);
    await expect(store.extend(ref, 'not-the-token', 400)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    // After the lease: taken over, attempt 2, the old holder fenced.
    await new Promise((resolve) => setTimeout(resolve, 450));
    const second = await store.begin(ref, 'fp', lease);
    expect(second).toMatchObject({ kind: 'acquired', attempt: 2, recovered: true });
    if (second.kind !== 'acquired') return;
    await expect(store.commit(ref, first.token, 'stale', lease.ttlMs)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await store.commit(ref, second.token, 'fresh', lease.ttlMs);
    const done = await store.get(ref);
    // Replays and mismatches on a completed record come from the fast path's SET … GET.
    expect(await store.begin(ref, 'fp', lease)).toEqual({
      kind: 'replay',
      outcome: 'fresh',
      completedAt: done!.completedAt,
      expiresAt: done!.expiresAt,
    });
    expect(await store.begin(ref, 'other', lease)).toEqual({ kind: 'mismatch', state: 'completed' });
    // release of a fresh record makes the key absent.
    const other = { scope: 's', key: 'released' };
    const held = await store.begin(other, 'fp', lease);
    if (held.kind !== 'acquired') throw new Error(held.kind);
    await store.release(other, held.token);
    expect(await store.get(other)).toBeUndefined();
    expect(await store.begin(other, 'fp', lease)).toMatchObject({ kind: 'acquired', attempt: 1, recovered: false });
  });

  it('on the server clock, a record is gone at expiresAt, whichever script wrote it last', async () => {
    const store = redisStore({ client: admin, prefix: prefix() });
    const fresh = { scope: 's', key: 'fresh' };
    const completed = { scope: 's', key: 'completed' };
    const a = await store.begin(fresh, 'fp', { leaseMs: 100, ttlMs: 150 });
    const b = await store.begin(completed, 'fp', { leaseMs: 100, ttlMs: 150 });
    if (a.kind !== 'acquired' || b.kind !== 'acquired') throw new Error('expected acquired');
    await store.commit(completed, b.token, 'out', 150);
    const expiresAt = (await store.get(completed))!.expiresAt;
    while ((await serverNow()) < expiresAt + 5) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await store.get(fresh)).toBeUndefined();
    expect(await store.get(completed)).toBeUndefined();
    await expect(store.commit(fresh, a.token, 'late', 150)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    expect(await store.begin(completed, 'fp', { leaseMs: 100, ttlMs: 150 })).toMatchObject({ kind: 'acquired', attempt: 1 });
    expect(await store.sweep(), 'Redis already dropped them').toBe(0);
  });

  it('still reads records of version 1 (MessagePack), and rewrites them in the current layout', async () => {
    const p = prefix();
    const store = redisStore({ client: admin, prefix: p });
    const ref = { scope: 's', key: 'old' };
    const name = new KeySpace(p).record('s', 'old');
    const now = await serverNow();
    // What the previous version wrote for an in-progress record: 10 MessagePack values.
    await admin.eval(
      "redis.call('SET', KEYS[1], cmsgpack.pack(1, 'p', 'fp', 1, tonumber(ARGV[1]), tonumber(ARGV[1]) + 60000, 'tok', tonumber(ARGV[1]) + 60000, '', 0), 'PXAT', tonumber(ARGV[1]) + 60000)",
      1,
      name,
      now,
    );
    expect(await store.get(ref)).toMatchObject({ state: 'in_progress', token: 'tok', createdAt: now, leaseUntil: now + 60_000 });
    expect(await store.begin(ref, 'fp', LEASE)).toMatchObject({ kind: 'in_progress', attempt: 1 });
    expect(await store.begin(ref, 'other', LEASE)).toEqual({ kind: 'mismatch', state: 'in_progress' });
    await expect(store.commit(ref, 'not-tok', 'out', LEASE.ttlMs)).rejects.toMatchObject({ code: 'LEASE_LOST' });
    await store.commit(ref, 'tok', 'out', LEASE.ttlMs);
    expect((await admin.getBuffer(name))!.subarray(0, 4).toString()).toBe('2:c:');
    expect(await store.begin(ref, 'fp', LEASE)).toMatchObject({ kind: 'replay', outcome: 'out' });
    expect(await store.get(ref)).toMatchObject({ state: 'completed', createdAt: now, outcome: 'out' });
  });

  it('lists and sweeps without an index: SCAN finds every record of a scope, in key order', async () => {
    const store = redisStore({ client: admin, prefix: prefix() });
    const keys = Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    for (const key of keys) {
      const got = await store.begin({ scope: 'a', key }, 'fp', LEASE);
      if (got.kind !== 'acquired') throw new Error(got.kind);
      if (Number(key.slice(1)) % 2 === 0) await store.commit({ scope: 'a', key }, got.token, `out-${key}`, LEASE.ttlMs);
    }
    await store.begin({ scope: 'b', key: 'k00' }, 'fp', LEASE);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ scope: 'a', limit: 4, ...(cursor ? { cursor } : {}) });
      seen.push(...page.records.map((r) => r.key));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(keys);
    const inProgress = await store.list({ scope: 'a', state: 'in_progress', limit: 100 });
    expect(inProgress.records.map((r) => r.key)).toEqual(keys.filter((k) => Number(k.slice(1)) % 2 === 1));
    expect(inProgress.records.every((r) => r.state === 'in_progress' && r.leaseUntil! > r.createdAt)).toBe(true);
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
    expect(await deleteKeysWithPrefix(admin, p), 'sweep removed the record').toBe(0);
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
      expect(
        (await store.list({ scope })).records.map((r) => r.key),
        JSON.stringify(scope),
      ).toEqual(keys.sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y))));
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
