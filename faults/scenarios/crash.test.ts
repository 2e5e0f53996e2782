/**
 * Process crashes: a gateway, or library workers, killed with SIGKILL at failpoints (before
 * begin, after the effect and before commit, after commit before the answer), restarted at once,
 * clients retrying with the same keys. Non-transactional: at most one effect per lease
 * (once-per-lease); transactional mode: exactly once.
 */
import { afterAll, test } from 'vitest';
import { FAILPOINTS } from '../failpoints.js';
import type { StoreKind } from '../fixtures/stores.js';
import { SCALE, runScenario } from '../harness.js';
import { preparePgEffects, prepareSqliteEffects, readPgEffects, readSqliteEffects } from '../ledger.js';
import { describeStore } from '../servers.js';
import { Servers, crashSchedule, gateway, openLedger, upstream, worker } from '../stack.js';
import { type ClientOptions, gatewayTarget, plan, runClients, settle, workerTarget } from '../workload.js';

const servers = new Servers();
afterAll(() => servers.close());

const LEASE_MS = 1000;
const TTL_MS = 3_600_000;

for (const kind of ['sqlite', 'postgres', 'redis'] as const) {
  const name = `gateway-crash/${kind}`;
  describeStore(kind, name)(name, () => {
    test('gateway SIGKILLed at each failpoint and restarted, clients retrying: at most one effect per lease', () =>
      runScenario(name, async (s) => {
        const ledger = openLedger(s);
        const up = await upstream(s, ledger);
        const store = await servers.store(s, kind);
        const schedule = crashSchedule(s, FAILPOINTS, 4 * SCALE, 5);
        const gw = await gateway(
          s,
          'gateway',
          { store, upstream: up.url, ledger: ledger.path, leaseMs: LEASE_MS, ttlMs: TTL_MS, storeTimeoutMs: 3000 },
          schedule,
        );
        const keys = plan(s.rand.fork('plan'), { requests: 4000 * SCALE, duplicateRate: 0.3, window: 10, prefix: s.name });
        const clients: ClientOptions = {
          history: s.history,
          rand: s.rand.fork('clients'),
          target: gatewayTarget(() => [gw.url], s.rand.fork('target')),
          clients: 8,
          maxAttempts: 80,
          timeoutMs: 5000,
          stop: () => !gw.armed,
          minRequests: 60 * SCALE,
        };
        await runClients(keys, clients);
        const unsettled = await settle(clients);
        if (unsettled > 0) s.violation(`${unsettled} key(s) never acknowledged after the faults stopped`);
        await gw.stop();
        return { effects: ledger.effects(), leases: ledger.leases(), guarantee: 'once-per-lease' };
      }));
  });
}

const WORKER_CASES: readonly { kind: StoreKind; mode: 'run' | 'transaction' }[] = [
  { kind: 'sqlite', mode: 'transaction' },
  { kind: 'postgres', mode: 'transaction' },
  { kind: 'sqlite', mode: 'run' },
  { kind: 'postgres', mode: 'run' },
  { kind: 'redis', mode: 'run' },
];

for (const { kind, mode } of WORKER_CASES) {
  const name = `worker-crash/${mode}/${kind}`;
  const guarantee = mode === 'transaction' ? 'exactly-once' : 'once-per-lease';
  describeStore(kind, name)(name, () => {
    test(`two workers SIGKILLed at each failpoint and restarted: ${guarantee}`, () =>
      runScenario(name, async (s) => {
        const ledger = openLedger(s);
        const store = await servers.store(s, kind);
        if (mode === 'transaction') {
          if (store.kind === 'sqlite') prepareSqliteEffects(store.path);
          if (store.kind === 'postgres') await preparePgEffects(store.url);
        }
        const config = {
          store,
          mode,
          leaseMs: LEASE_MS,
          ttlMs: TTL_MS,
          storeTimeoutMs: 3000,
          ...(mode === 'run' ? { ledger: ledger.path } : {}),
        };
        const workers = [
          await worker(s, 'worker-a', config, crashSchedule({ ...s, rand: s.rand.fork('a') }, FAILPOINTS, 3 * SCALE, 5)),
          await worker(s, 'worker-b', config, crashSchedule({ ...s, rand: s.rand.fork('b') }, FAILPOINTS, 3 * SCALE, 5)),
        ];
        const keys = plan(s.rand.fork('plan'), { requests: 4000 * SCALE, duplicateRate: 0.4, window: 8, prefix: s.name });
        const clients: ClientOptions = {
          history: s.history,
          rand: s.rand.fork('clients'),
          target: workerTarget(() => workers.map((w) => w.url), s.rand.fork('target')),
          clients: 8,
          maxAttempts: 80,
          timeoutMs: 8000,
          stop: () => workers.every((w) => !w.armed),
          minRequests: 60 * SCALE,
        };
        await runClients(keys, clients);
        const unsettled = await settle(clients);
        if (unsettled > 0) s.violation(`${unsettled} key(s) never acknowledged after the faults stopped`);
        for (const w of workers) await w.stop();
        if (mode === 'run') return { effects: ledger.effects(), leases: ledger.leases(), guarantee };
        const effects =
          store.kind === 'sqlite' ? readSqliteEffects(store.path) : store.kind === 'postgres' ? await readPgEffects(store.url) : [];
        return { effects, guarantee };
      }));
  });
}
