/**
 * The suite checks itself: the same pipeline (clients → gateway → upstream → ledger → checker)
 * run against deliberate defects must fail, each with the anomaly it plants. A checker or a
 * workload that could not see these would pass every other scenario for the wrong reason.
 */
import { afterAll, expect, test } from 'vitest';
import { SCALE, runScenario } from '../harness.js';
import { describeStore } from '../servers.js';
import { Servers, gateway, openLedger, upstream } from '../stack.js';
import type { UpstreamDefects } from '../upstream.js';
import { type ClientOptions, gatewayTarget, plan, runClients } from '../workload.js';

const servers = new Servers();
afterAll(() => servers.close());

const CASES: readonly { name: string; anomaly: RegExp; defects?: UpstreamDefects; mutation?: string }[] = [
  { name: 'self-check/no-dedup', anomaly: /duplicated [^:]+: \d+ effects, 1 allowed/, mutation: 'no-dedup' },
  { name: 'self-check/ack-without-effect', anomaly: /lost [^:]+: acknowledged effect never-written/, defects: { ackWithoutEffect: 0.3 } },
  { name: 'self-check/phantom-effect', anomaly: /unexpected [^:]+-phantom/, defects: { phantomEffect: 0.3 } },
];

for (const c of CASES) {
  describeStore('sqlite', c.name)(c.name, () => {
    test('a planted defect makes the scenario fail with its anomaly', async () => {
      process.stdout.write(`[faults] ${c.name}: a defect is planted; the next line must show it\n`);
      const run = runScenario(
        c.name,
        async (s) => {
          const ledger = openLedger(s);
          const up = await upstream(s, ledger, c.defects);
          const store = await servers.store(s, 'sqlite');
          const gw = await gateway(
            s,
            'gateway',
            { store, upstream: up.url, ledger: ledger.path, leaseMs: 30_000, ttlMs: 3_600_000, storeTimeoutMs: 3000 },
            [],
            c.mutation ? { ONCEKEY_FAULT_MUTATION: c.mutation } : {},
          );
          const clients: ClientOptions = {
            history: s.history,
            rand: s.rand.fork('clients'),
            target: gatewayTarget(() => [gw.url], s.rand.fork('target')),
            clients: 8,
            maxAttempts: 20,
            timeoutMs: 5000,
            backoffMs: [5, 40],
          };
          await runClients(plan(s.rand.fork('plan'), { requests: 150 * SCALE, duplicateRate: 0.6, window: 4, prefix: s.name }), clients);
          await gw.stop();
          return { effects: ledger.effects(), leases: ledger.leases(), guarantee: 'once-per-lease' };
        },
        { keep: false },
      );
      await expect(run).rejects.toThrow(c.anomaly);
    });
  });
}
