/**
 * `redisStore()`: the Store contract on Redis or Redis Cluster through ioredis (Redis >= 7.0:
 * `SET … NX GET`, `PEXPIRETIME`; tested on 7.0).
 *
 * `begin` on a new key is one plain `SET key fresh NX PX (ttlMs - 1) GET`: no script, the least
 * Redis work there is. The fresh record holds ttlMs and leaseMs instead of times; its times
 * follow from the key's expiry on the server's clock (see scripts.ts). When the key exists, the
 * SET returns it unchanged: a completed record (replay) or one of another fingerprint (mismatch)
 * is answered from that, and only an in-progress record of the same fingerprint, whose lease
 * must be judged on the server's clock, costs a second round trip: the begin script, which
 * answers in_progress or takes an expired lease over. The `leaseUntil` of a fresh acquire is
 * this process's estimate (its clock + leaseMs), since the SET cannot read the server's clock;
 * the stored lease, which every decision uses, is the server's. `commit`, `release`, `extend`
 * are one Lua script each, called by SHA: atomic, one round trip, fenced by the token.
 *
 * Time is the server's, so app servers with skewed clocks agree; an injected `clock` replaces it
 * (tests). Each key expires at exactly its record's `expiresAt` (PXAT expiresAt - 1: Redis drops
 * a key once its time is past the expiry), so a record Redis holds is live.
 *
 * Cluster: every key of a scope carries the hash tag `{scope}`, so a scope lives in one slot (one
 * scope's traffic goes to one shard; scopes spread as usual). There is no index to keep in step:
 * `list` SCANs for the scope's records (every master of a cluster) and reads them in key order,
 * O(keys in the database) of Redis work per page, meant for operators and dashboards, not request
 * paths; `sweep` has nothing to do on the server's clock (Redis already dropped every expired
 * record), so it need not run at all; with an injected clock it SCANs.
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
import type { BeginOptions, BeginResult, Clock, KeyRecord, KeyRef, ListOptions, ListPage, Store, SweepOptions } from '../contract.js';
import { LeaseLostError } from '../../core/errors/lease-lost.js';
import { InvalidOptionError } from '../../core/errors/invalid-option.js';
import { StoreUnavailableError } from '../../core/errors/store-unavailable.js';
import { assertKnownOptions, positiveInt } from '../../core/options.js';
import { DEFAULT_TIMEOUT_MS, Reachability, connect } from './connection.js';
import { CallGuard } from './guard.js';
import { KeySpace } from './keys.js';
import { LuaScript } from './lua.js';
import { recordOf } from './record.js';
import { freshValue, inProgressValue, readValue } from './record-value.js';
import { compareCodePoints } from '../order.js';
import * as lua from './scripts.js';
import { encodeCursor } from '../cursor.js';
import { beginOptions, clockOption, commitTtl, extendLease, listQuery, sweepOptions } from '../kit.js';

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
/** Keys one SCAN call asks for, and records one script call reads or sweeps at most. */
const SCAN_COUNT = 1000;
const SCRIPT_KEYS = 256;
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
  read: new LuaScript('read', lua.READ),
  sweep: new LuaScript('sweep', lua.SWEEP),
};

/** A Store on Redis; see the module comment for time, cluster and durability. */
export function redisStore(options: RedisStoreOptions): Store {
  assertKnownOptions('redisStore', options, KNOWN_OPTIONS);
  if (options === undefined) throw new InvalidOptionError('redisStore.client', 'required');
  const timeoutMs =
    options.commandTimeoutMs === undefined ? DEFAULT_TIMEOUT_MS : positiveInt('redisStore.commandTimeoutMs', options.commandTimeoutMs);
  const clock = clockOption('redisStore', options.clock);
  const newToken = options.newToken ?? randomUUID;
  if (typeof newToken !== 'function') throw new InvalidOptionError('redisStore.newToken', 'expected a function');
  const prefix = options.prefix ?? 'oncekey:';
  if (typeof prefix !== 'string') throw new InvalidOptionError('redisStore.prefix', 'expected a string');
  const keys = new KeySpace(prefix);

  const owned = typeof options.client === 'string';
  const client = resolveClient(options.client, timeoutMs);
  const margin = clock ? INJECTED_CLOCK_MARGIN_MS : 0;
  const guard = new CallGuard(timeoutMs, new Reachability(client, owned ? (options.client as string) : undefined));
  let closed = false;

  /** ARGV[1] and ARGV[2] of every script: the injected now (or '' for the server's) and the TTL margin. */
  const time = (): [string, number] => [clock ? String(Math.trunc(clock.now())) : '', margin];

  /** One guarded call to Redis; its reply goes through `map`, which may throw an Oncekey error. */
  function call<R, T = R>(what: string, work: () => Promise<R>, map?: (reply: R) => T): Promise<T> {
    if (closed) return Promise.reject(new StoreUnavailableError('redis', 'the store is closed'));
    return guard.run(what, work, map);
  }

  return {
    name: 'redis',

    async begin(ref: KeyRef, fingerprint: string, opts: BeginOptions): Promise<BeginResult> {
      const { leaseMs, ttlMs } = beginOptions(opts);
      const token = newToken();
      const name = keys.record(ref.scope, ref.key);
      // Fast path: one plain SET that creates the record if there is none and otherwise returns
      // it. A new key (the common case) costs Redis no script at all; a completed record or a
      // live one of another fingerprint is answered from what came back. Only what needs the
      // server's clock to judge (an in-progress record of this fingerprint: live lease or not?)
      // goes to the begin script, a second round trip. ttlMs 1 cannot be written as PX ttlMs-1.
      if (clock || ttlMs > 1) {
        const now = clock ? Math.trunc(clock.now()) : Date.now();
        const value = clock ? inProgressValue(fingerprint, token, now, leaseMs, ttlMs) : freshValue(fingerprint, token, leaseMs, ttlMs);
        // setBuffer, not callBuffer('SET', …): with auto-pipelining ioredis drops call's command name.
        const old: unknown = await call('begin', () =>
          (client.setBuffer as (...args: unknown[]) => Promise<Buffer | null>)(
            name,
            value,
            'PX',
            clock ? ttlMs + margin : ttlMs - 1,
            'NX',
            'GET',
          ),
        );
        // On the server's clock, leaseUntil is this process's estimate: the SET cannot read TIME.
        if (old === null) return { kind: 'acquired', token, attempt: 1, recovered: false, leaseUntil: now + leaseMs };
        const found = Buffer.isBuffer(old) ? readValue(old, fingerprint) : undefined;
        // On the server's clock a record that Redis still holds is live (its expiry is expiresAt).
        if (found && (!clock || (found.state !== 'f' && now < found.expiresAt))) {
          if (!found.sameFingerprint) return { kind: 'mismatch', state: found.state === 'c' ? 'completed' : 'in_progress' };
          if (found.state === 'c') {
            return { kind: 'replay', outcome: found.outcome, completedAt: found.completedAt, expiresAt: found.expiresAt };
          }
        }
      }
      const reply = await call('begin', () => scripts.begin.run(client, [name], [...time(), fingerprint, token, leaseMs, ttlMs]));
      return toBeginResult(reply);
    },

    // Not an async function: the hot path, where each extra promise shows (measured).
    commit(ref: KeyRef, token: string, outcome: string, ttlMs: number): Promise<void> {
      try {
        commitTtl(ttlMs);
      } catch (error) {
        return Promise.reject(error);
      }
      const name = keys.record(ref.scope, ref.key);
      const now = clock ? String(Math.trunc(clock.now())) : '';
      return call(
        'commit',
        () => scripts.commit.run(client, [name], [now, margin, token, outcome, ttlMs]),
        (ok) => {
          if (Number(ok) !== 1) throw new LeaseLostError(ref);
        },
      );
    },

    async release(ref: KeyRef, token: string): Promise<void> {
      const ok = await call('release', () => scripts.release.run(client, [keys.record(ref.scope, ref.key)], [...time(), token]));
      if (Number(ok) !== 1) throw new LeaseLostError(ref);
    },

    async extend(ref: KeyRef, token: string, leaseMs: number): Promise<number> {
      extendLease(leaseMs);
      const leaseUntil = Number(
        await call('extend', () => scripts.extend.run(client, [keys.record(ref.scope, ref.key)], [...time(), token, leaseMs])),
      );
      if (!(leaseUntil > 0)) throw new LeaseLostError(ref);
      return leaseUntil;
    },

    async get(ref: KeyRef): Promise<KeyRecord | undefined> {
      const fields = await call('get', () => scripts.get.run(client, [keys.record(ref.scope, ref.key)], time()));
      return Array.isArray(fields) && fields.length > 0 ? recordOf(ref.scope, ref.key, fields) : undefined;
    },

    async delete(ref: KeyRef): Promise<boolean> {
      const live = await call('delete', () => scripts.delete.run(client, [keys.record(ref.scope, ref.key)], time()));
      return Number(live) === 1;
    },

    /**
     * SCANs for the scope's record keys (every master of a cluster), sorts the ones after the
     * cursor, and reads them in key order, a script call per chunk, until the page is full: each
     * page costs O(keys in the database) of Redis work, plus the scope's key names in memory
     * here. Meant for operators and dashboards, not for request paths.
     */
    async list(opts: ListOptions): Promise<ListPage> {
      const { scope, state: wanted, after, limit } = listQuery(opts);
      const state = wanted === undefined ? '' : wanted === 'completed' ? 'c' : 'p';
      const recordPrefix = keys.recordPrefix(scope);
      const found = new Set<string>();
      for (const node of masters(client)) {
        await scanAll(
          (cursor) => call('list', () => scanPage(node, cursor, keys.scopePattern(scope))),
          (names) => {
            for (const name of names) {
              if (!name.startsWith(recordPrefix)) continue;
              const key = name.slice(recordPrefix.length);
              if (after === undefined || compareCodePoints(key, after) > 0) found.add(key);
            }
          },
        );
      }
      const candidates = [...found].sort(compareCodePoints);
      const records: KeyRecord[] = [];
      // One record more than the page tells whether another page follows.
      for (let i = 0; i < candidates.length && records.length <= limit;) {
        const chunk = candidates.slice(i, i + Math.min(SCRIPT_KEYS, limit + 1 - records.length + 16));
        i += chunk.length;
        const rows = (await call('list', () =>
          scripts.read.run(
            client,
            chunk.map((key) => recordPrefix + key),
            [...time(), state],
          ),
        )) as unknown[];
        chunk.forEach((key, j) => {
          const fields = rows[j];
          if (Array.isArray(fields) && records.length <= limit) records.push(recordOf(scope, key, fields));
        });
      }
      if (records.length <= limit) return { records };
      const page = records.slice(0, limit);
      return { records: page, cursor: encodeCursor(page[page.length - 1]!.key) };
    },

    /**
     * On the server's clock there is nothing to do: Redis drops every record at its expiresAt
     * (and frees the memory by its own expiry cycle), so this returns 0 after one PING. With an
     * injected clock, which Redis' TTLs do not follow, it SCANs every master for record keys and
     * removes those the clock calls expired, a script call per chunk of one scope: O(keys in the
     * database) of Redis work.
     */
    async sweep(opts?: SweepOptions): Promise<number> {
      const { batchSize, maxBatches } = sweepOptions(opts);
      if (!clock) {
        // Nothing to remove, but a store that is down still says so: every call fails closed.
        await call('sweep', () => client.ping());
        return 0;
      }
      // At most batchSize × maxBatches removals: a script call never gets more keys than remain.
      const cap = batchSize * maxBatches;
      let removed = 0;
      const sweepChunk = async (names: string[]) => {
        for (let i = 0; i < names.length && removed < cap;) {
          const chunk = names.slice(i, i + Math.min(SCRIPT_KEYS, cap - removed));
          i += chunk.length;
          removed += Number(await call('sweep', () => scripts.sweep.run(client, chunk, time())));
        }
      };
      for (const node of masters(client)) {
        // Names gathered per scope over SCAN pages, so that each script call gets a full chunk.
        const byTag = new Map<string, string[]>();
        await scanAll(
          (cursor) => call('sweep', () => scanPage(node, cursor, keys.recordPattern())),
          async (names) => {
            for (const name of names) {
              const tag = keys.tagOf(name);
              if (tag === undefined) continue;
              const group = byTag.get(tag) ?? [];
              group.push(name);
              byTag.set(tag, group);
              if (group.length >= SCRIPT_KEYS) {
                byTag.delete(tag);
                await sweepChunk(group);
              }
            }
            return removed < cap;
          },
        );
        for (const group of byTag.values()) await sweepChunk(group);
        if (removed >= cap) break;
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

/**
 * Every key that `scan` finds, a SCAN page at a time, to `onPage`; stops early when it returns
 * false. A key may come twice (SCAN's guarantee).
 */
async function scanAll(
  scan: (cursor: string) => Promise<[string, string[]]>,
  onPage: (names: string[]) => void | boolean | Promise<void | boolean>,
): Promise<void> {
  let cursor = '0';
  do {
    const [next, names] = await scan(cursor);
    cursor = next;
    if ((await onPage(names)) === false) return;
  } while (cursor !== '0');
}

/** One SCAN call for string keys matching `pattern`. */
function scanPage(node: Redis, cursor: string, pattern: string): Promise<[string, string[]]> {
  return node.scan(cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT, 'TYPE', 'string');
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
