/**
 * Network faults through a TCP fault proxy (latency, blackhole, reset after the request was
 * delivered): between the clients and the gateway, on every store; and between the gateway and
 * its store, on PostgreSQL and Redis (SQLite has no network). Nothing crashes, but commits may
 * fail and leases may run out while the store is unreachable, so the guarantee is once per lease.
 */
import { afterAll, test } from 'vitest';
import { type FaultProxy, type ProxyMode, startFaultProxy } from '../fault-proxy.js';
import type { StoreSpec } from '../fixtures/stores.js';
import { SCALE, type Scenario, runScenario } from '../harness.js';
import { describeStore } from '../servers.js';
import { Servers, gateway, openLedger, upstream } from '../stack.js';
import { type ClientOptions, gatewayTarget, plan, runClients, settle, sleep } from '../workload.js';

const servers = new Servers();
afterAll(() => servers.close());

/** Seeded fault windows on `proxy`, each followed by a healed pause; resolves when done. */
async function nemesis(s: Scenario, proxy: FaultProxy, label: string, windows: number, blackholeMaxMs: number): Promise<void> {
  const rand = s.rand.fork(`nemesis-${label}`);
  const kinds: ProxyMode['kind'][] = ['latency', 'blackhole', 'reset-after-delivery'];
  for (let i = 0; i < windows; i++) {
    await sleep(rand.int(150, 500));
    const kind = kinds[i % kinds.length]!; // every kind, in turn
    const mode: ProxyMode = kind === 'latency' ? { kind, minMs: 0, maxMs: rand.int(20, 80) } : { kind };
    const ms = kind === 'blackhole' ? rand.int(400, blackholeMaxMs) : rand.int(300, 900);
    s.history.nemesis(kind, `${label} for ${ms} ms`);
    proxy.set(mode);
    await sleep(ms);
    proxy.set({ kind: 'pass' });
    s.history.nemesis('heal', `${label} (resets so far ${proxy.resets})`);
  }
}

for (const kind of ['sqlite', 'postgres', 'redis'] as const) {
  const name = `network-client/${kind}`;
  describeStore(kind, name)(name, () => {
    test('latency, blackhole and reset-after-delivery between clients and gateway', () =>
      runScenario(name, async (s) => {
        const ledger = openLedger(s);
        const up = await upstream(s, ledger);
        const store = await servers.store(s, kind);
        const gw = await gateway(s, 'gateway', {
          store,
          upstream: up.url,
          ledger: ledger.path,
          leaseMs: 2000,
          ttlMs: 3_600_000,
          storeTimeoutMs: 3000,
        });
        const proxy = await startFaultProxy({ host: '127.0.0.1', port: gw.port }, s.rand.fork('proxy'));
        s.defer(() => proxy.close());
        let faulting = true;
        const faults = nemesis(s, proxy, 'client-gateway', 6 * SCALE, 1500).finally(() => (faulting = false));
        const clients: ClientOptions = {
          history: s.history,
          rand: s.rand.fork('clients'),
          target: gatewayTarget(() => [`http://127.0.0.1:${proxy.port}`], s.rand.fork('target')),
          clients: 8,
          maxAttempts: 40,
          timeoutMs: 1200,
          stop: () => !faulting,
          minRequests: 60 * SCALE,
        };
        await runClients(plan(s.rand.fork('plan'), { requests: 20_000 * SCALE, duplicateRate: 0.3, window: 10, prefix: s.name }), clients);
        await faults;
        const unsettled = await settle({ ...clients, timeoutMs: 5000 });
        if (unsettled > 0) s.violation(`${unsettled} key(s) never acknowledged after the faults stopped`);
        await gw.stop();
        return { effects: ledger.effects(), leases: ledger.leases(), guarantee: 'once-per-lease' };
      }));
  });
}

for (const kind of ['postgres', 'redis'] as const) {
  const name = `network-store/${kind}`;
  describeStore(kind, name)(name, () => {
    test('latency, blackhole and reset-after-delivery between gateway and store', () =>
      runScenario(name, async (s) => {
        const ledger = openLedger(s);
        const up = await upstream(s, ledger);
        const direct = await servers.store(s, kind);
        const address = new URL(direct.kind === 'sqlite' ? 'file:' : direct.url);
        const proxy = await startFaultProxy({ host: '127.0.0.1', port: Number(address.port) }, s.rand.fork('proxy'));
        s.defer(() => proxy.close());
        address.port = String(proxy.port);
        const store = { kind, url: address.href } as StoreSpec;
        const gw = await gateway(s, 'gateway', {
          store,
          upstream: up.url,
          ledger: ledger.path,
          leaseMs: 1500,
          ttlMs: 3_600_000,
          storeTimeoutMs: 1000,
        });
        let faulting = true;
        const faults = nemesis(s, proxy, 'gateway-store', 6 * SCALE, 2500).finally(() => (faulting = false));
        const clients: ClientOptions = {
          history: s.history,
          rand: s.rand.fork('clients'),
          target: gatewayTarget(() => [gw.url], s.rand.fork('target')),
          clients: 8,
          maxAttempts: 40,
          timeoutMs: 6000,
          stop: () => !faulting,
          minRequests: 60 * SCALE,
        };
        await runClients(plan(s.rand.fork('plan'), { requests: 20_000 * SCALE, duplicateRate: 0.3, window: 10, prefix: s.name }), clients);
        await faults;
        const unsettled = await settle(clients);
        if (unsettled > 0) s.violation(`${unsettled} key(s) never acknowledged after the faults stopped`);
        await gw.stop();
        return { effects: ledger.effects(), leases: ledger.leases(), guarantee: 'once-per-lease' };
      }));
  });
}
