/**
 * Store crashes under load: the private PostgreSQL cluster stopped with `-m immediate` (a crash:
 * no checkpoint, clients cut) and started again; the private Redis (AOF, appendfsync always)
 * killed with SIGKILL and restarted. Gateways and workers stay up and must recover by themselves.
 * PostgreSQL runs two client groups at once: HTTP through a gateway (once per lease) and library
 * workers in transactional mode (exactly once, even across the crash).
 */
import { afterAll, test } from 'vitest';
import { History } from '../history.js';
import { SCALE, type Scenario, runScenario } from '../harness.js';
import { preparePgEffects, readPgEffects } from '../ledger.js';
import { describeStore } from '../servers.js';
import { Servers, gateway, openLedger, upstream, worker } from '../stack.js';
import { type ClientOptions, gatewayTarget, plan, runClients, settle, sleep, workerTarget } from '../workload.js';

const servers = new Servers();
afterAll(() => servers.close());

/** `crashes` seeded crash/restart cycles of a server; resolves once it is back for good. */
async function crashLoop(
  s: Scenario,
  label: string,
  crashes: number,
  crash: () => Promise<void>,
  restart: () => Promise<void>,
): Promise<void> {
  const rand = s.rand.fork(`nemesis-${label}`);
  for (let i = 0; i < crashes; i++) {
    await sleep(rand.int(400, 1200));
    s.history.nemesis('store-crash', label);
    await crash();
    await sleep(rand.int(200, 1200));
    await restart();
    s.history.nemesis('store-start', label);
  }
}

{
  const name = 'store-crash/postgres';
  describeStore('postgres', name)(name, () => {
    test('PostgreSQL stopped -m immediate and restarted under load: gateway once per lease, transactions exactly once', () =>
      runScenario(name, async (s) => {
        const cluster = await servers.pg();
        const ledger = openLedger(s);
        const up = await upstream(s, ledger);
        const store = await servers.store(s, 'postgres');
        if (store.kind !== 'postgres') throw new Error('unreachable');
        await preparePgEffects(store.url);
        s.defer(async () => {
          if (!cluster.running) await cluster.start();
        });
        const gw = await gateway(s, 'gateway', {
          store,
          upstream: up.url,
          ledger: ledger.path,
          leaseMs: 1500,
          ttlMs: 3_600_000,
          storeTimeoutMs: 2000,
        });
        const tx = await worker(s, 'tx-worker', { store, mode: 'transaction', leaseMs: 1500, ttlMs: 3_600_000, storeTimeoutMs: 2000 });
        const txHistory = new History();

        let crashing = true;
        const nemesis = crashLoop(
          s,
          'postgres',
          3 * SCALE,
          () => cluster.stop('immediate'),
          () => cluster.start(),
        ).finally(() => (crashing = false));
        const http: ClientOptions = {
          history: s.history,
          rand: s.rand.fork('http'),
          target: gatewayTarget(() => [gw.url], s.rand.fork('http-target')),
          clients: 6,
          maxAttempts: 60,
          timeoutMs: 5000,
          stop: () => !crashing,
          minRequests: 40 * SCALE,
        };
        const lib: ClientOptions = {
          history: txHistory,
          rand: s.rand.fork('tx'),
          target: workerTarget(() => [tx.url], s.rand.fork('tx-target')),
          clients: 6,
          maxAttempts: 60,
          timeoutMs: 5000,
          stop: () => !crashing,
          minRequests: 40 * SCALE,
        };
        await Promise.all([
          runClients(
            plan(s.rand.fork('http-plan'), { requests: 30_000 * SCALE, duplicateRate: 0.3, window: 10, prefix: `${s.name}-http` }),
            http,
          ),
          runClients(
            plan(s.rand.fork('tx-plan'), { requests: 30_000 * SCALE, duplicateRate: 0.3, window: 10, prefix: `${s.name}-tx` }),
            lib,
          ),
          nemesis,
        ]);
        const unsettled = (await settle(http)) + (await settle(lib));
        if (unsettled > 0) s.violation(`${unsettled} key(s) never acknowledged after the store came back`);
        await gw.stop();
        await tx.stop();
        return [
          { effects: ledger.effects(), leases: ledger.leases(), guarantee: 'once-per-lease' },
          { history: txHistory, effects: await readPgEffects(store.url), guarantee: 'exactly-once' },
        ];
      }));
  });
}

{
  const name = 'store-crash/redis';
  describeStore('redis', name)(name, () => {
    test('Redis (AOF always) killed -9 and restarted under load: once per lease', () =>
      runScenario(name, async (s) => {
        const redis = await servers.redis();
        const ledger = openLedger(s);
        const up = await upstream(s, ledger);
        const store = await servers.store(s, 'redis');
        s.defer(async () => {
          await redis.start().catch(() => {}); // running again for the next scenario (a no-op error if it is)
        });
        const gw = await gateway(s, 'gateway', {
          store,
          upstream: up.url,
          ledger: ledger.path,
          leaseMs: 1500,
          ttlMs: 3_600_000,
          storeTimeoutMs: 2000,
        });
        const lib = await worker(s, 'worker', {
          store,
          mode: 'run',
          ledger: ledger.path,
          leaseMs: 1500,
          ttlMs: 3_600_000,
          storeTimeoutMs: 2000,
        });
        let crashing = true;
        const nemesis = crashLoop(
          s,
          'redis',
          3 * SCALE,
          () => redis.kill('SIGKILL'),
          () => redis.start(),
        ).finally(() => (crashing = false));
        const clients: ClientOptions = {
          history: s.history,
          rand: s.rand.fork('clients'),
          // HTTP through the gateway and the library directly, on one store and one ledger.
          target: ((http, direct) => (key: string, timeoutMs: number) =>
            key.endsWith('0') ? direct(key, timeoutMs) : http(key, timeoutMs))(
            gatewayTarget(() => [gw.url], s.rand.fork('http-target')),
            workerTarget(() => [lib.url], s.rand.fork('lib-target')),
          ),
          clients: 8,
          maxAttempts: 60,
          timeoutMs: 5000,
          stop: () => !crashing,
          minRequests: 60 * SCALE,
        };
        await Promise.all([
          runClients(plan(s.rand.fork('plan'), { requests: 30_000 * SCALE, duplicateRate: 0.3, window: 10, prefix: s.name }), clients),
          nemesis,
        ]);
        const unsettled = await settle(clients);
        if (unsettled > 0) s.violation(`${unsettled} key(s) never acknowledged after the store came back`);
        await gw.stop();
        await lib.stop();
        return { effects: ledger.effects(), leases: ledger.leases(), guarantee: 'once-per-lease' };
      }));
  });
}
