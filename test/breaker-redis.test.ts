/**
 * One circuit for a fleet: circuit breakers in separate Node processes keep their state in one
 * Redis. One process tripping opens the circuit for all; when it half-opens, exactly one process
 * gets the trial; and a breaker whose Redis is gone keeps protecting on local state, says so in an
 * event, and goes back to the shared state when Redis is back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { circuitBreaker, consecutiveBreaker, isBrokenCircuitError, redisBreakerState } from 'oncekey/resilience';
import { recommendedRedisOptions } from '../src/store/redis/connection.js';
import { startBreakerWorker, type BreakerWorker } from './fixtures/breaker-driver.js';
import { deleteKeysWithPrefix, uniquePrefix } from './helpers/redis-keys.js';
import { startRedisServer } from './helpers/redis-server.js';
import { describeRedis, REDIS_URL } from './helpers/services.js';

describeRedis()('circuit breaker state shared through Redis', () => {
  let admin: Redis;
  let prefix: string;
  let workers: BreakerWorker[] = [];

  beforeAll(() => {
    admin = new Redis(REDIS_URL!);
    prefix = uniquePrefix('breaker');
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    workers = [];
  });
  afterAll(async () => {
    await deleteKeysWithPrefix(admin, prefix);
    await admin.quit();
  });

  const spawnWorkers = async (n: number, key: string, halfOpenAfterMs: number) => {
    const started = await Promise.all(
      Array.from({ length: n }, () => startBreakerWorker(['redis', REDIS_URL!, key, '3', String(halfOpenAfterMs)])),
    );
    workers.push(...started);
    return started;
  };
  const stored = async (key: string) => JSON.parse((await admin.hget(key, 's')) ?? 'null') as Record<string, unknown> | null;

  it('process A trips the breaker; process B sees it open without calling the dependency', async () => {
    const key = `${prefix}trip`;
    const [a, b] = await spawnWorkers(2, key, 60_000);
    expect(await b!.call('ok')).toMatchObject({ result: 'ok', ran: true, state: 'closed' });
    expect(await a!.call('fail')).toMatchObject({ result: 'failed', state: 'closed' });
    expect(await b!.call('fail')).toMatchObject({ result: 'failed', state: 'closed' }); // counts add up across processes
    expect(await a!.call('fail')).toMatchObject({ result: 'failed', state: 'open' });
    expect(await stored(key)).toMatchObject({ state: 'open', opens: 1 });

    expect(await b!.call('ok')).toEqual({ result: 'rejected', ran: false, state: 'open' });
    expect(await a!.call('ok')).toEqual({ result: 'rejected', ran: false, state: 'open' });
  });

  it('half-open: across 4 processes with 5 concurrent callers each, exactly one trial call runs', async () => {
    const key = `${prefix}trial`;
    const fleet = await spawnWorkers(4, key, 300);
    for (let i = 0; i < 3; i++) await fleet[i % 4]!.call('fail');
    const { openUntil } = (await stored(key)) as { openUntil: number };
    while (Date.now() <= openUntil + 20) await sleep(50);

    const bursts = await Promise.all(fleet.map((w) => w.burst(5)));
    expect(bursts.reduce((n, b) => n + b.started, 0)).toBe(1);
    expect(bursts.reduce((n, b) => n + b.rejected, 0)).toBe(19);
    expect(await stored(key)).toMatchObject({ state: 'halfOpen', trials: [expect.any(Object)] });

    const released = await Promise.all(fleet.map((w) => w.release()));
    expect(released.reduce((n, r) => n + r.ok, 0)).toBe(1);
    expect(await stored(key)).toMatchObject({ state: 'closed' });
    for (const w of fleet) expect(await w.call('ok')).toMatchObject({ result: 'ok', ran: true });
  });

  it('a breaker whose Redis is gone keeps working on local state, says so, and resumes the shared state', async () => {
    const server = await startRedisServer();
    const client = new Redis(server.url, recommendedRedisOptions(300));
    client.on('error', () => {});
    try {
      const state = redisBreakerState({ client, key: `${prefix}outage`, timeoutMs: 300, retryStoreAfterMs: 200 });
      const events: string[] = [];
      state.on('stateStoreUnavailable', () => events.push('unavailable'));
      state.on('stateStoreRecovered', () => events.push('recovered'));
      const breaker = circuitBreaker({ breaker: consecutiveBreaker({ threshold: 2 }), halfOpenAfterMs: 60_000, store: state });
      let ran = 0;
      const call = (fail: boolean) =>
        breaker.execute(() => {
          ran++;
          if (fail) throw new Error('dependency failed');
          return 'ok';
        }).catch((error: unknown) => error);

      expect(await call(false)).toBe('ok');
      await server.kill();
      expect(await call(true)).toMatchObject({ message: 'dependency failed' }); // ran, on local state
      expect(events).toEqual(['unavailable']);
      expect(state.local).toBe(true);
      await call(true);
      expect(breaker.state).toBe('open'); // the local circuit counted both failures
      const before = ran;
      expect(isBrokenCircuitError(await call(false))).toBe(true);
      expect(ran).toBe(before);
      expect(events).toEqual(['unavailable']);

      await server.start(); // empty: the shared circuit is closed
      for (let i = 0; i < 150 && !events.includes('recovered'); i++) {
        await sleep(100);
        await call(false);
      }
      expect(events).toEqual(['unavailable', 'recovered']);
      expect(state.local).toBe(false);
      expect(await call(false)).toBe('ok');
      expect(breaker.state).toBe('closed');
      expect(JSON.parse((await client.hget(`${prefix}outage`, 's'))!)).toMatchObject({ state: 'closed' });
    } finally {
      client.disconnect();
      await server.destroy();
    }
  });
});
