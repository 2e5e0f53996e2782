/**
 * The pieces a scenario assembles: the store a kind names (on private servers, started once per
 * scenario file), the ledger, the upstream, supervised gateways and workers.
 */
import { join } from 'node:path';
import type { GatewayFixtureConfig } from './fixtures/gateway.js';
import type { StoreKind, StoreSpec } from './fixtures/stores.js';
import type { WorkerFixtureConfig } from './fixtures/worker.js';
import type { Scenario } from './harness.js';
import { Ledger } from './ledger.js';
import { type PgCluster, type RedisServer, pgDatabase, privatePg, privateRedis } from './servers.js';
import { type Armed, Supervisor } from './supervisor.js';
import { type Upstream, type UpstreamDefects, startUpstream } from './upstream.js';

/** Private servers shared by the scenarios of one file; call `close` in afterAll. */
export class Servers {
  #pg: Promise<PgCluster> | undefined;
  #redis: Promise<RedisServer> | undefined;

  pg(): Promise<PgCluster> {
    return (this.#pg ??= privatePg());
  }

  /** Redis with AOF `appendfsync always`, so a kill -9 loses no acknowledged write. */
  redis(): Promise<RedisServer> {
    return (this.#redis ??= privateRedis(true));
  }

  /** The store a scenario uses: its own SQLite file, its own PostgreSQL database, or the private Redis. */
  async store(s: Scenario, kind: StoreKind): Promise<StoreSpec> {
    switch (kind) {
      case 'sqlite':
        return { kind, path: join(s.dir, 'store.db') };
      case 'postgres':
        return { kind, url: await pgDatabase(await this.pg(), s.name) };
      case 'redis': {
        const redis = await this.redis();
        // Every scenario's keys carry its own prefix; flush anyway so no earlier record can matter.
        const { Redis } = await import('ioredis');
        const client = new Redis(redis.url);
        await client.flushall();
        client.disconnect();
        return { kind, url: redis.url };
      }
    }
  }

  async close(): Promise<void> {
    const [pg, redis] = await Promise.allSettled([this.#pg, this.#redis]);
    if (pg.status === 'fulfilled' && pg.value) await pg.value.destroy();
    if (redis.status === 'fulfilled' && redis.value) await redis.value.destroy();
  }
}

export function openLedger(s: Scenario, name = 'ledger.db'): Ledger {
  const ledger = new Ledger(join(s.dir, name));
  s.defer(() => ledger.close());
  return ledger;
}

export async function upstream(s: Scenario, ledger: Ledger, defects?: UpstreamDefects): Promise<Upstream> {
  const up = await startUpstream(ledger, s.rand.fork('upstream'), 15, defects);
  s.defer(() => up.close());
  return up;
}

export type GatewayOptions = Omit<GatewayFixtureConfig, 'port'>;

/** A supervised gateway fixture (see fixtures/gateway.ts), started. */
export async function gateway(
  s: Scenario,
  label: string,
  config: GatewayOptions,
  schedule: readonly Armed[] = [],
  extraEnv: Record<string, string> = {},
): Promise<Supervisor> {
  const sup = new Supervisor(
    s,
    label,
    'gateway.ts',
    (port) => ({ ...extraEnv, ONCEKEY_FAULT_GATEWAY: JSON.stringify({ ...config, port }) }),
    schedule,
  );
  await sup.start();
  return sup;
}

export type WorkerOptions = Omit<WorkerFixtureConfig, 'port'>;

/** A supervised library worker (see fixtures/worker.ts), started. */
export async function worker(s: Scenario, label: string, config: WorkerOptions, schedule: readonly Armed[] = []): Promise<Supervisor> {
  const sup = new Supervisor(s, label, 'worker.ts', (port) => ({ ONCEKEY_FAULT_WORKER: JSON.stringify({ ...config, port }) }), schedule);
  await sup.start();
  return sup;
}

/** `count` failpoints covering each name at least once (when count allows), in a seeded order, each at a seeded hit. */
export function crashSchedule(s: Scenario, names: readonly Armed['name'][], count: number, maxHit: number): Armed[] {
  const rand = s.rand.fork('schedule');
  const order = Array.from({ length: count }, (_, i) => names[i % names.length]!);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rand.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  return order.map((name) => ({ name, hit: rand.int(1, maxHit) }));
}
