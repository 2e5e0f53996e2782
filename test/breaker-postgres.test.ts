/**
 * The shared circuit breaker on PostgreSQL: separate processes share one row. One tripping opens
 * the circuit for all; one trial among all when half-open; and a breaker cut off from the database
 * (through a TCP proxy that goes away) keeps working on local state, says so, and resumes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { circuitBreaker, consecutiveBreaker, isBrokenCircuitError, postgresBreakerState } from 'oncekey/resilience';
import { startBreakerWorker, type BreakerWorker } from './fixtures/breaker-driver.js';
import { startTcpProxy } from './helpers/tcp-proxy.js';
import { describePostgres, POSTGRES_URL } from './helpers/services.js';

describePostgres()('circuit breaker state shared through PostgreSQL', () => {
  const table = `breakers_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  let admin: pg.Pool;
  let workers: BreakerWorker[] = [];

  beforeAll(async () => {
    admin = new pg.Pool({ connectionString: POSTGRES_URL!, max: 2 });
    // Two instances migrating at once must both succeed.
    await Promise.all([1, 2].map(() => postgresBreakerState({ pool: admin, name: 'x', table }).migrate()));
  });
  afterEach(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    workers = [];
  });
  afterAll(async () => {
    await admin.query(`DROP TABLE IF EXISTS public."${table}"`);
    await admin.end();
  });

  const spawnWorkers = async (n: number, name: string, halfOpenAfterMs: number) => {
    const started = await Promise.all(
      Array.from({ length: n }, () =>
        startBreakerWorker(['postgres', POSTGRES_URL!, 'public', table, name, '3', String(halfOpenAfterMs)]),
      ),
    );
    workers.push(...started);
    return started;
  };
  const stored = async (name: string) => {
    const { rows } = await admin.query(`SELECT snapshot FROM public."${table}" WHERE name = $1`, [name]);
    return rows[0] === undefined ? null : (JSON.parse((rows[0] as { snapshot: string }).snapshot) as Record<string, unknown>);
  };

  it('process A trips the breaker; process B sees it open without calling the dependency', async () => {
    const name = 'trip';
    const [a, b] = await spawnWorkers(2, name, 60_000);
    expect(await b!.call('ok')).toMatchObject({ result: 'ok', ran: true, state: 'closed' });
    expect(await a!.call('fail')).toMatchObject({ result: 'failed', state: 'closed' });
    expect(await b!.call('fail')).toMatchObject({ result: 'failed', state: 'closed' }); // counts add up across processes
    expect(await a!.call('fail')).toMatchObject({ result: 'failed', state: 'open' });
    expect(await stored(name)).toMatchObject({ state: 'open', opens: 1 });
    expect(await b!.call('ok')).toEqual({ result: 'rejected', ran: false, state: 'open' });
  });

  it('half-open: across 3 processes with 5 concurrent callers each, exactly one trial call runs', async () => {
    const name = 'trial';
    const fleet = await spawnWorkers(3, name, 300);
    for (let i = 0; i < 3; i++) await fleet[i]!.call('fail');
    const { openUntil } = (await stored(name)) as { openUntil: number };
    while (Date.now() <= openUntil + 20) await sleep(50);
    const bursts = await Promise.all(fleet.map((w) => w.burst(5)));
    expect(bursts.reduce((n, x) => n + x.started, 0)).toBe(1);
    expect(bursts.reduce((n, x) => n + x.rejected, 0)).toBe(14);
    expect(await stored(name)).toMatchObject({ state: 'halfOpen', trials: [expect.any(Object)] });
    const released = await Promise.all(fleet.map((w) => w.release()));
    expect(released.reduce((n, r) => n + r.ok, 0)).toBe(1);
    expect(await stored(name)).toMatchObject({ state: 'closed' });
    for (const w of fleet) expect(await w.call('ok')).toMatchObject({ result: 'ok', ran: true });
  });

  it('a breaker cut off from PostgreSQL keeps working on local state, says so, and resumes the shared state', async () => {
    const direct = new URL(POSTGRES_URL!);
    const upstream = { host: direct.hostname, port: Number(direct.port || 5432) };
    let proxy = await startTcpProxy(upstream);
    const viaProxy = new URL(POSTGRES_URL!);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const pool = new pg.Pool({ connectionString: viaProxy.toString(), max: 2, connectionTimeoutMillis: 300 });
    pool.on('error', () => {});
    try {
      const state = postgresBreakerState({ pool, name: 'cut-off', table, timeoutMs: 500, retryStoreAfterMs: 200 });
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

      expect(await call(true)).toMatchObject({ message: 'dependency failed' });
      expect(await stored('cut-off')).toMatchObject({ state: 'closed', window: { failures: 1 } });
      await proxy.close(); // the database is unreachable
      expect(await call(true)).toMatchObject({ message: 'dependency failed' });
      expect(events).toEqual(['unavailable']);
      expect(breaker.state).toBe('open'); // local state, seeded with the shared failure count
      const before = ran;
      expect(isBrokenCircuitError(await call(false))).toBe(true);
      expect(ran).toBe(before);

      // Meanwhile the fleet's circuit recovers; when the link is back, the shared (closed) state wins.
      await admin.query(`DELETE FROM public."${table}" WHERE name = 'cut-off'`);
      proxy = await startTcpProxy(upstream, proxy.port);
      for (let i = 0; i < 150 && !events.includes('recovered'); i++) {
        await sleep(100);
        await call(false);
      }
      expect(events).toEqual(['unavailable', 'recovered']);
      expect(await call(false)).toBe('ok');
      expect(breaker.state).toBe('closed');
    } finally {
      await pool.end();
      await proxy.close();
    }
  });
});
