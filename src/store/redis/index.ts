/**
 * `redisStore()`: the Store contract on Redis or Redis Cluster through ioredis (Redis >= 6.0;
 * tested on 7.0).
 *
 * Each of `begin`, `commit`, `release`, `extend` is one Lua script called by SHA: atomic, one
 * round trip, fenced by the token. Time is the server's (`TIME`), so app servers with skewed
 * clocks agree; an injected `clock` replaces it (tests). Redis TTLs free expired records, but
 * every decision compares the stored deadlines with `now`, so a record is never live past its
 * `expiresAt`, and its TTL never removes it before.
 *
 * Cluster and the index: every key of a scope carries the hash tag `{scope}`, so a scope lives in
 * one slot. That lets one script keep a record and the scope's index (a sorted set of its keys)
 * in step, which makes `list` an ordered range read, O(log n + page), instead of a SCAN of the
 * keyspace. The costs: one scope's traffic goes to one shard, so a single very hot scope (one
 * tenant and route) cannot spread over a cluster (scopes spread as usual); a new key costs one
 * ZADD; and the index entry of a record that Redis expired stays until `sweep` removes it (about
 * the key's length plus ~50 bytes), so run `sweep` periodically (e.g. every few minutes).
 * `sweep` finds the indexes with SCAN over every master and walks each one, so a full pass costs
 * O(all keys) of Redis work, spread over short script calls.
 *
 * When Redis is unreachable or slow, every call fails with `StoreUnavailableError` within
 * `commandTimeoutMs` (default 5 s): fail closed, nothing runs twice. Calls fail while it is down
 * and work again once it is back, without a restart of the app. A call that timed out may still
 * reach Redis later (see {@link recommendedRedisOptions}); fencing makes that harmless, at worst a
 * late `begin` holds its key for one lease.
 *
 * What an acknowledged write survives is the server's setting, not the store's: with
 * `appendonly yes` + `appendfsync always`, an acknowledged commit survives a crash of Redis or of
 * the machine (tested with kill -9); with `everysec` (the AOF default) a crash of the machine may
 * lose about the last second or two, a crash of Redis alone normally nothing; without AOF (Redis'
 * out-of-the-box setting) a restart forgets everything since the last RDB snapshot (tested), and
 * a retry of a forgotten key runs again. Set `maxmemory-policy noeviction` (an evicted record is
 * a forgotten one) and, with replicas, know that a fail-over may lose the last writes that had
 * not reached the replica.
 */
import { randomUUID } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type {
  BeginOptions,
  BeginResult,
  Clock,
  KeyRecord,
  KeyRef,
  ListOptions,
  ListPage,
  Store,
  SweepOptions,
} from '../contract.js';
import { LeaseLostError } from '../../errors/lease-lost.js';
import { InvalidOptionError } from '../../errors/invalid-option.js';
import { StoreUnavailableError } from '../../errors/store-unavailable.js';
import { assertKnownOptions, positiveInt } from '../../util/options.js';
import { DEFAULT_TIMEOUT_MS, connect } from './connection.js';
import { CallGuard } from './guard.js';
import { KeySpace } from './keys.js';
import { LuaScript } from './lua.js';
import { toRecord } from './record.js';
import * as lua from './scripts.js';
import { decodeCursor, encodeCursor } from '../cursor.js';

export { recommendedRedisOptions } from './connection.js';

export interface RedisStoreOptions {
  /**
   * An ioredis `Redis` or `Cluster` you own (the store never closes it), or a `redis://` URL for a
   * client the store creates with {@link recommendedRedisOptions} and closes in `close()`.
   */
  readonly client: Redis | Cluster | string;
  /** Prepended to every key name; must not contain `{` or `}`. Default `oncekey:`. */
  readonly prefix?: string;
  /** Source of time instead of the Redis server's clock (tests). */
  readonly clock?: Clock;
  /** Every call fails with StoreUnavailableError after this long. Default 5000. */
  readonly commandTimeoutMs?: number;
  /** New lease tokens; default `crypto.randomUUID`. */
  readonly newToken?: () => string;
}

const KNOWN_OPTIONS = ['client', 'prefix', 'clock', 'commandTimeoutMs', 'newToken'] as const;
const DEFAULT_PAGE = 100;
const MAX_PAGE = 1000;
const DEFAULT_SWEEP_BATCH = 500;
/**
 * Index entries one `list` call examines at most (so one script never blocks Redis for long):
 * enough to step over expired or other-state entries without many short pages.
 */
const listScan = (limit: number): number => Math.max(4 * limit, 1000);
/** Index entries one `sweep` call examines at most. */
const SWEEP_SCAN = 1000;
/**
 * With an injected clock, Redis TTLs run on real time while decisions follow the clock, which
 * may stand still; records are kept this much longer than their logical life so Redis never
 * removes one that the clock still calls live. `sweep` removes them on the clock's terms.
 */
const INJECTED_CLOCK_MARGIN_MS = 3_600_000;

const scripts = {
  begin: new LuaScript('begin', lua.BEGIN),
  commit: new LuaScript('commit', lua.COMMIT),
  release: new LuaScript('release', lua.RELEASE),
  extend: new LuaScript('extend', lua.EXTEND),
  get: new LuaScript('get', lua.GET),
  delete: new LuaScript('delete', lua.DELETE),
  list: new LuaScript('list', lua.LIST),
  sweep: new LuaScript('sweep', lua.SWEEP),
};

/** A Store on Redis; see the module comment for time, cluster and durability. */
export function redisStore(options: RedisStoreOptions): Store {
  assertKnownOptions('redisStore', options, KNOWN_OPTIONS);
  if (options === undefined) throw new InvalidOptionError('redisStore.client', 'required');
  const timeoutMs =
    options.commandTimeoutMs === undefined
      ? DEFAULT_TIMEOUT_MS
      : positiveInt('redisStore.commandTimeoutMs', options.commandTimeoutMs);
  const clock = options.clock;
  if (clock !== undefined && (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function')) {
    throw new InvalidOptionError('redisStore.clock', 'expected an object with a now() method');
  }
  const newToken = options.newToken ?? randomUUID;
  if (typeof newToken !== 'function') throw new InvalidOptionError('redisStore.newToken', 'expected a function');
  const prefix = options.prefix ?? 'oncekey:';
  if (typeof prefix !== 'string') throw new InvalidOptionError('redisStore.prefix', 'expected a string');
  const keys = new KeySpace(prefix);

  const owned = typeof options.client === 'string';
  const client = resolveClient(options.client, timeoutMs);
  const margin = clock ? INJECTED_CLOCK_MARGIN_MS : 0;
  const guard = new CallGuard(timeoutMs);
  let closed = false;

  /** ARGV[1] and ARGV[2] of every script: the injected now (or '' for the server's) and the TTL margin. */
  const time = (): [string, number] => [clock ? String(Math.trunc(clock.now())) : '', margin];

  function call<T>(what: string, work: () => Promise<T>): Promise<T> {
    if (closed) return Promise.reject(new StoreUnavailableError('redis', 'the store is closed'));
    return guard.run(what, work);
  }

  return {
    name: 'redis',

    async begin(ref: KeyRef, fingerprint: string, opts: BeginOptions): Promise<BeginResult> {
      const leaseMs = positiveInt('begin.leaseMs', opts.leaseMs);
      const ttlMs = positiveInt('begin.ttlMs', opts.ttlMs);
      if (ttlMs < leaseMs) throw new InvalidOptionError('begin.ttlMs', `must be >= leaseMs (${leaseMs}), got ${ttlMs}`);
      const token = newToken();
      const reply = await call('begin', () =>
        scripts.begin.run(
          client,
          [keys.record(ref.scope, ref.key), keys.index(ref.scope)],
          [...time(), fingerprint, token, leaseMs, ttlMs, ref.key],
        ),
      );
      return toBeginResult(reply);
    },

    async commit(ref: KeyRef, token: string, outcome: string, ttlMs: number): Promise<void> {
      positiveInt('commit.ttlMs', ttlMs);
      const ok = await call('commit', () =>
        scripts.commit.run(client, [keys.record(ref.scope, ref.key)], [...time(), token, outcome, ttlMs]),
      );
      if (Number(ok) !== 1) throw new LeaseLostError(ref);
    },

    async release(ref: KeyRef, token: string): Promise<void> {
      const ok = await call('release', () =>
        scripts.release.run(client, [keys.record(ref.scope, ref.key), keys.index(ref.scope)], [...time(), token, ref.key]),
      );
      if (Number(ok) !== 1) throw new LeaseLostError(ref);
    },

    async extend(ref: KeyRef, token: string, leaseMs: number): Promise<number> {
      positiveInt('extend.leaseMs', leaseMs);
      const leaseUntil = Number(
        await call('extend', () => scripts.extend.run(client, [keys.record(ref.scope, ref.key)], [...time(), token, leaseMs])),
      );
      if (!(leaseUntil > 0)) throw new LeaseLostError(ref);
      return leaseUntil;
    },

    async get(ref: KeyRef): Promise<KeyRecord | undefined> {
      const fields = await call('get', () => scripts.get.run(client, [keys.record(ref.scope, ref.key)], time()));
      return Array.isArray(fields) && fields.length > 0 ? toRecord(ref.scope, ref.key, fields) : undefined;
    },

    async delete(ref: KeyRef): Promise<boolean> {
      const live = await call('delete', () =>
        scripts.delete.run(client, [keys.record(ref.scope, ref.key), keys.index(ref.scope)], [...time(), ref.key]),
      );
      return Number(live) === 1;
    },

    async list(opts: ListOptions): Promise<ListPage> {
      assertKnownOptions('list', opts, ['scope', 'state', 'cursor', 'limit']);
      const limit = Math.min(opts.limit === undefined ? DEFAULT_PAGE : positiveInt('list.limit', opts.limit), MAX_PAGE);
      if (opts.state !== undefined && opts.state !== 'in_progress' && opts.state !== 'completed') {
        throw new InvalidOptionError('list.state', `expected in_progress or completed, got ${String(opts.state)}`);
      }
      const state = opts.state === undefined ? '' : opts.state === 'completed' ? 'c' : 'p';
      const start = opts.cursor === undefined ? '-' : `(${decodeCursor(opts.cursor)}`;
      const reply = await call('list', () =>
        scripts.list.run(
          client,
          [keys.index(opts.scope)],
          [...time(), state, start, limit, listScan(limit), keys.recordPrefix(opts.scope)],
        ),
      );
      const [more, last, rows] = reply as [number, string, [string, unknown[]][]];
      const records = rows.map(([key, fields]) => toRecord(opts.scope, String(key), fields));
      return Number(more) === 1 ? { records, cursor: encodeCursor(String(last)) } : { records };
    },

    async sweep(opts?: SweepOptions): Promise<number> {
      assertKnownOptions('sweep', opts, ['batchSize', 'maxBatches']);
      const batchSize =
        opts?.batchSize === undefined ? DEFAULT_SWEEP_BATCH : positiveInt('sweep.batchSize', opts.batchSize);
      const maxBatches = opts?.maxBatches === undefined ? Infinity : positiveInt('sweep.maxBatches', opts.maxBatches);
      // A batch is a budget of `batchSize` removals. One script call (atomic, short) walks part of
      // one scope's index, so a batch may take several calls.
      const cap = batchSize * maxBatches;
      let removed = 0;
      for (const node of masters(client)) {
        let cursor = '0';
        do {
          const [next, names] = await call('sweep', () =>
            node.scan(cursor, 'MATCH', keys.indexPattern(), 'COUNT', 1000, 'TYPE', 'zset'),
          );
          cursor = next;
          for (const name of names) {
            const recPrefix = keys.recordPrefixOfIndex(name);
            if (recPrefix === undefined) continue;
            let start = '-';
            for (;;) {
              if (removed >= cap) return removed;
              const limit = Math.min(batchSize, cap - removed);
              const [n, last, done] = (await call('sweep', () =>
                scripts.sweep.run(client, [name], [...time(), start, limit, SWEEP_SCAN, recPrefix]),
              )) as [number, string, number];
              removed += Number(n);
              if (Number(done) === 1) break;
              start = `(${last}`;
            }
          }
        } while (cursor !== '0');
      }
      return removed;
    },

    async ping(): Promise<void> {
      await call('ping', () => client.ping());
    },

    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (!owned) return;
      try {
        await guard.run('close', () => client.quit());
      } catch {
        client.disconnect();
      }
    },
  };
}

function resolveClient(client: unknown, timeoutMs: number): Redis | Cluster {
  if (typeof client === 'string') return connect(client, timeoutMs);
  if (client !== null && typeof client === 'object' && typeof (client as Redis).evalsha === 'function') {
    return client as Redis | Cluster;
  }
  throw new InvalidOptionError('redisStore.client', 'expected an ioredis Redis or Cluster, or a redis:// URL');
}

/** The nodes that hold data: every master of a cluster, or the one server. */
function masters(client: Redis | Cluster): Redis[] {
  return client.isCluster ? (client as Cluster).nodes('master') : [client as Redis];
}

function toBeginResult(reply: unknown): BeginResult {
  const r = reply as unknown[];
  switch (r[0]) {
    case 'acquired':
      return {
        kind: 'acquired',
        token: String(r[1]),
        attempt: Number(r[2]),
        recovered: Number(r[3]) === 1,
        leaseUntil: Number(r[4]),
      };
    case 'replay':
      return { kind: 'replay', outcome: String(r[1]), completedAt: Number(r[2]), expiresAt: Number(r[3]) };
    case 'in_progress':
      return { kind: 'in_progress', attempt: Number(r[1]), leaseUntil: Number(r[2]), retryAfterMs: Number(r[3]) };
    case 'mismatch':
      return { kind: 'mismatch', state: r[1] === 'c' ? 'completed' : 'in_progress' };
    default:
      throw new StoreUnavailableError('redis', `begin: unexpected reply ${JSON.stringify(reply)}`);
  }
}

