/**
 * Time at its boundaries.
 * - clock-boundaries/*: the engine and the store on one injected clock, stepped to the exact
 *   millisecond around each boundary of seeded leases and TTLs: a crashed holder's lease is live
 *   at leaseUntil − 1 (409, nothing runs) and taken over at leaseUntil (runs, recovered); a
 *   completed record replays at expiresAt − 1 and is gone at expiresAt (runs afresh, declared to
 *   the checker as an `expire`). Any answer on the wrong side of a boundary is a violation.
 * - clock-skew/*: two gateway processes whose wall clocks disagree by minutes share a PostgreSQL
 *   or Redis store, which judge leases on the server's clock: concurrent duplicates must still run
 *   once, with no lease ever taken over. (SQLite judges time on each process's own clock, so
 *   skewed processes on one file are out of its contract, and not tested.)
 */
import { afterAll, test } from 'vitest';
import { Oncekey } from '../../src/engine/oncekey.js';
import { fingerprint } from '../../src/engine/fingerprint.js';
import { isInProgressError } from '../../src/core/errors/in-progress.js';
import type { Clock, Store } from '../../src/store/contract.js';
import type { StoreKind, StoreSpec } from '../fixtures/stores.js';
import { SCALE, runScenario } from '../harness.js';
import { describeStore } from '../servers.js';
import { Servers, gateway, openLedger, upstream } from '../stack.js';
import { type ClientOptions, gatewayTarget, plan, runClients, settle } from '../workload.js';

const servers = new Servers();
afterAll(() => servers.close());

class ManualClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

async function openWithClock(spec: StoreSpec, clock: Clock): Promise<Store> {
  switch (spec.kind) {
    case 'sqlite': {
      const { sqliteStore } = await import('../../src/store/sqlite.js');
      return sqliteStore({ path: spec.path, clock });
    }
    case 'postgres': {
      const { postgresStore } = await import('../../src/store/postgres/index.js');
      const store = postgresStore({ connectionString: spec.url, clock });
      await store.migrate();
      return store;
    }
    case 'redis': {
      const { redisStore } = await import('../../src/store/redis/index.js');
      return redisStore({ client: spec.url, clock });
    }
  }
}

for (const kind of ['sqlite', 'postgres', 'redis'] as const satisfies readonly StoreKind[]) {
  const name = `clock-boundaries/${kind}`;
  describeStore(kind, name)(name, () => {
    test('lease take-over and TTL expiry exactly at their boundaries, on an injected clock', () =>
      runScenario(name, async (s) => {
        const ledger = openLedger(s);
        const clock = new ManualClock(1_700_000_000_000 + s.rand.int(0, 1_000_000));
        const store = await openWithClock(await servers.store(s, kind), clock);
        s.defer(() => store.close());
        const scope = 'faults';
        const rand = s.rand.fork('times');

        for (let k = 0; k < 40 * SCALE; k++) {
          const key = `${s.name}-${k}`;
          const ref = { scope, key };
          const leaseMs = rand.int(200, 5000);
          const ttlMs = leaseMs * rand.int(2, 6) + rand.int(0, 999);
          const oncekey = new Oncekey({
            store,
            clock,
            lease: leaseMs,
            ttl: ttlMs,
            hooks: { onAcquire: (e) => ledger.lease(e.ref.key, e.attempt, e.recovered, 'engine') },
          });
          const input = { key };
          const call = async (client: string, expect: 'ran' | 'replay' | 'in_progress', why: string): Promise<string | undefined> => {
            const op = s.history.invoke(client, key);
            let got: string;
            let value: string | undefined;
            try {
              const result = await oncekey.run({ scope, key }, input, (run) => ledger.effect(key, client, run), { onInProgress: 'throw' });
              value = result.value;
              op.ok(value);
              got = result.replayed ? 'replay' : 'ran';
            } catch (error) {
              if (!isInProgressError(error)) throw error;
              op.fail('in_progress');
              got = 'in_progress';
            }
            if (got !== expect) s.violation(`${key} at ${why}: expected ${expect}, got ${got}`);
            return value;
          };

          // A holder takes the key, performs the effect and crashes before committing.
          const ghost = s.history.invoke('crashed-holder', key);
          const held = await store.begin(ref, fingerprint(input), { leaseMs, ttlMs });
          if (held.kind !== 'acquired') throw new Error(`${key}: first begin answered ${held.kind}`);
          ledger.lease(key, held.attempt, held.recovered, 'crashed-holder');
          ledger.effect(key, 'crashed-holder', held);
          ghost.unknown('crashed after its effect, before commit');

          clock.t = held.leaseUntil - 1;
          await call('retry', 'in_progress', 'leaseUntil - 1');
          clock.t = held.leaseUntil;
          const first = await call('retry', 'ran', 'leaseUntil (take-over)');
          const expiresAt = clock.t + ttlMs;
          clock.t = expiresAt - 1;
          const replayed = await call('late', 'replay', 'expiresAt - 1');
          if (first !== undefined && replayed !== undefined && replayed !== first)
            s.violation(`${key}: replay ${replayed} is not the first outcome ${first}`);
          clock.t = expiresAt;
          s.history.nemesis('expire', `retention of ${ttlMs} ms over`, key);
          const fresh = await call('after-expiry', 'ran', 'expiresAt');
          clock.t = expiresAt + rand.int(1, leaseMs);
          const again = await call('after-expiry', 'replay', 'after the fresh run');
          if (fresh !== undefined && again !== undefined && again !== fresh)
            s.violation(`${key}: replay ${again} is not the fresh outcome ${fresh}`);
          clock.t += 10 * ttlMs; // the next key starts in a quiet future
        }
        return { effects: ledger.effects(), leases: ledger.leases(), guarantee: 'once-per-lease' };
      }));
  });
}

for (const kind of ['postgres', 'redis'] as const satisfies readonly StoreKind[]) {
  const name = `clock-skew/${kind}`;
  describeStore(kind, name)(name, () => {
    test('two gateways with wall clocks minutes apart on one store: exactly once, no take-over', () =>
      runScenario(name, async (s) => {
        const ledger = openLedger(s);
        const up = await upstream(s, ledger);
        const store = await servers.store(s, kind);
        const skew = s.rand.int(60_000, 600_000);
        // A lease far shorter than the skew, far longer than any request here.
        const base = { store, upstream: up.url, ledger: ledger.path, leaseMs: 10_000, ttlMs: 3_600_000, storeTimeoutMs: 3000 };
        const ahead = await gateway(s, 'gateway-ahead', { ...base, clockOffsetMs: skew });
        const behind = await gateway(s, 'gateway-behind', { ...base, clockOffsetMs: -skew });
        s.history.nemesis('clock-skew', `gateways ${2 * skew} ms apart`);
        const clients: ClientOptions = {
          history: s.history,
          rand: s.rand.fork('clients'),
          target: gatewayTarget(() => [ahead.url, behind.url], s.rand.fork('target')),
          clients: 16,
          maxAttempts: 40,
          timeoutMs: 10_000,
          backoffMs: [5, 60],
        };
        await runClients(plan(s.rand.fork('plan'), { requests: 300 * SCALE, duplicateRate: 0.7, window: 4, prefix: s.name }), clients);
        const unsettled = await settle(clients);
        if (unsettled > 0) s.violation(`${unsettled} key(s) never acknowledged`);
        const takeovers = ledger.leases().filter((l) => l.recovered).length;
        if (takeovers > 0)
          s.violation(`${takeovers} lease(s) taken over although no holder crashed: the store judged time on a skewed app clock`);
        await ahead.stop();
        await behind.stop();
        return { effects: ledger.effects(), leases: ledger.leases(), guarantee: 'exactly-once' };
      }));
  });
}
