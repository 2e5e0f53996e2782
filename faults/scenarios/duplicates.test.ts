/**
 * Concurrent duplicates through the real `oncekey proxy` CLI (the shipped binary's code, not a
 * fixture): many clients, random duplicate keys sent at the same time, no faults. Each key's
 * effect must happen exactly once (no crash, leases of 30 s: nothing may ever be taken over).
 * On PostgreSQL and Redis two gateway processes share the store and behave as one.
 */
import { afterAll, test } from 'vitest';
import { GatewayProcess } from '../../test/fixtures/gateway-process.js';
import type { StoreKind, StoreSpec } from '../fixtures/stores.js';
import { SCALE, runScenario } from '../harness.js';
import { describeStore } from '../servers.js';
import { Servers, openLedger, upstream } from '../stack.js';
import { type ClientOptions, gatewayTarget, plan, runClients, settle } from '../workload.js';

const servers = new Servers();
afterAll(() => servers.close());

function storeUrl(spec: StoreSpec): string {
  return spec.kind === 'sqlite' ? `sqlite:${spec.path}` : spec.url;
}

for (const kind of ['sqlite', 'postgres', 'redis'] as const satisfies readonly StoreKind[]) {
  const name = `duplicates/${kind}`;
  const gateways = kind === 'sqlite' ? 1 : 2;
  describeStore(kind, name)(name, () => {
    test(`${gateways} oncekey proxy process(es), 24 clients, random concurrent duplicates: exactly one effect per key`, () =>
      runScenario(name, async (s) => {
        const ledger = openLedger(s);
        const up = await upstream(s, ledger);
        const store = await servers.store(s, kind);
        const args = [
          'proxy',
          '--upstream',
          up.url,
          '--port',
          '0',
          '--admin-port',
          'off',
          '--store',
          storeUrl(store),
          '--lease',
          '30s',
          '--ttl',
          '1h',
        ];
        const urls: string[] = [];
        for (let i = 0; i < gateways; i++) {
          const gw = new GatewayProcess(args);
          s.defer(() => gw.stop('SIGKILL'));
          urls.push((await gw.ready).url);
        }
        const clients: ClientOptions = {
          history: s.history,
          rand: s.rand.fork('clients'),
          target: gatewayTarget(() => urls, s.rand.fork('target')),
          clients: 24,
          maxAttempts: 40,
          timeoutMs: 10_000,
          backoffMs: [5, 60],
        };
        await runClients(plan(s.rand.fork('plan'), { requests: 600 * SCALE, duplicateRate: 0.7, window: 4, prefix: s.name }), clients);
        const unsettled = await settle(clients);
        if (unsettled > 0) s.violation(`${unsettled} key(s) never acknowledged`);
        return { effects: ledger.effects(), guarantee: 'exactly-once' };
      }));
  });
}
