/**
 * Several gateway processes on one PostgreSQL or Redis store behave as one: the same key sent to
 * two gateways at once runs upstream exactly once; every other caller gets a 409 or the replay.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { GatewayProcess } from './fixtures/gateway-process.js';
import { RecordingUpstream } from './fixtures/gateway-upstream.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';
import { POSTGRES_URL, REDIS_URL, describePostgres, describeRedis } from './helpers/services.js';

type Started = Awaited<ReturnType<typeof GatewayProcess.start>>;

const post = (url: string, key: string, path = '/orders') =>
  fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'idempotency-key': key },
    body: '{"item":"book"}',
  });

interface Reply {
  readonly status: number;
  readonly replayed: boolean;
  readonly body: string;
}
const read = async (response: Response): Promise<Reply> => ({
  status: response.status,
  replayed: response.headers.get('idempotent-replayed') === 'true',
  body: await response.text(),
});

/** The tests both backends run, given a store URL each gateway is started with. */
function sharedStoreTests(storeUrl: () => string): void {
  const upstream = new RecordingUpstream();
  let a: Started;
  let b: Started;
  beforeAll(async () => {
    await upstream.start();
    const args = ['proxy', '--upstream', upstream.url, '--port', '0', '--admin-port', '0', '--store', storeUrl()];
    [a, b] = await Promise.all([GatewayProcess.start(args), GatewayProcess.start(args)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop('SIGTERM'), b?.stop('SIGTERM')]);
    await upstream.close();
  });

  test('one key sent to both gateways at once: one upstream execution, 409s while it runs, replays after', async () => {
    upstream.hold();
    const before = upstream.seen.length;
    const calls = Array.from({ length: 12 }, (_, i) => post((i % 2 ? a : b).url, 'shared-1').then(read));
    // Every call but the one running upstream is answered while it is held there.
    await upstream.arrived(before + 1);
    const settled: Reply[] = [];
    const running = calls.map((c) => c.then((reply) => (settled.push(reply), reply)));
    while (settled.length < calls.length - 1) await new Promise((r) => setTimeout(r, 20));
    expect(settled.map((r) => r.status)).toEqual(Array(calls.length - 1).fill(409));
    upstream.release();
    const replies = await Promise.all(running);
    expect(upstream.runs('shared-1')).toBe(1);
    const original = replies.filter((r) => r.status === 201);
    expect(original).toHaveLength(1);
    expect(original[0]!.replayed).toBe(false);

    const [fromA, fromB] = await Promise.all([post(a.url, 'shared-1').then(read), post(b.url, 'shared-1').then(read)]);
    for (const reply of [fromA, fromB]) expect(reply).toEqual({ status: 201, replayed: true, body: original[0]!.body });
    expect(upstream.runs('shared-1')).toBe(1);
  });

  test('a burst over 20 keys, 10 calls per key spread over both gateways: one execution per key, the rest 409 or identical replays', async () => {
    const keys = Array.from({ length: 20 }, (_, i) => `burst-${i}`);
    // The upstream takes 100 ms, so calls overlap; which gateway sees a key first alternates.
    const calls = keys.flatMap((key, k) =>
      Array.from({ length: 10 }, (_, copy) => ({ key, reply: post(((copy + k) % 2 ? a : b).url, key, '/orders?delay=100').then(read) })),
    );
    const replies = await Promise.all(calls.map(async (c) => ({ key: c.key, reply: await c.reply })));
    for (const key of keys) {
      expect(upstream.runs(key), key).toBe(1);
      const mine = replies.filter((r) => r.key === key).map((r) => r.reply);
      const originals = mine.filter((r) => r.status === 201 && !r.replayed);
      expect(originals, key).toHaveLength(1);
      for (const reply of mine) {
        if (reply.status === 409) continue;
        expect(reply.status, key).toBe(201);
        expect(reply.body, key).toBe(originals[0]!.body);
      }
    }
  });
}

describePostgres()('two gateway processes on one PostgreSQL store', () => {
  const schema = `oncekey_gw_${randomBytes(4).toString('hex')}`;
  afterAll(async () => {
    const admin = new pg.Client({ connectionString: POSTGRES_URL });
    await admin.connect();
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });
  sharedStoreTests(() => `${POSTGRES_URL}${POSTGRES_URL!.includes('?') ? '&' : '?'}schema=${schema}&table=keys`);
});

describeRedis()('two gateway processes on one Redis store', () => {
  const prefix = `oncekey-gw-${randomBytes(4).toString('hex')}:`;
  afterAll(async () => {
    const redis = new Redis(REDIS_URL!);
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });
  sharedStoreTests(() => `${REDIS_URL}${REDIS_URL!.includes('?') ? '&' : '?'}prefix=${encodeURIComponent(prefix)}`);

  test('/readyz is 503 while Redis does not answer, and 200 again once it does', async () => {
    const { hostname, port } = new URL(REDIS_URL!);
    const link: TcpProxy = await startTcpProxy({ host: hostname, port: Number(port || 6379) });
    const upstream = await new RecordingUpstream().start();
    const gateway = await GatewayProcess.start([
      'proxy',
      '--upstream',
      upstream.url,
      '--port',
      '0',
      '--admin-port',
      '0',
      '--store',
      `redis://127.0.0.1:${link.port}?prefix=${encodeURIComponent(prefix)}`,
    ]);
    try {
      expect((await fetch(`${gateway.adminUrl}/readyz`)).status).toBe(200);
      link.blackhole();
      const down = await fetch(`${gateway.adminUrl}/readyz`);
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ status: 'store unreachable', store: 'redis' });
      expect((await fetch(`${gateway.adminUrl}/healthz`)).status).toBe(200); // alive, just not ready
      link.resume();
      let ready = 0;
      for (let attempt = 0; attempt < 50 && ready !== 200; attempt++) {
        ready = (await fetch(`${gateway.adminUrl}/readyz`)).status;
        if (ready !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready).toBe(200);
    } finally {
      await gateway.stop();
      await upstream.close();
      await link.close();
    }
  });
});
