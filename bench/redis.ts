/**
 * Redis store benchmark: `begin` + `commit` pairs per second on fresh keys, with a ~200-byte
 * outcome and `concurrency` pairs in flight, beside the bare minimum on the same server in the
 * same run: `SET key NX PX` (insert-if-absent with a lease) then `SET key PX` (store the outcome),
 * through an ioredis client with auto-pipelining, at the same concurrency. A third row replaces
 * that second SET by the smallest fenced one (a GET-compare-SET script): the floor for any store
 * whose commit cannot overwrite a lease taken over by another holder.
 *
 * Variants run interleaved, round after round, each under a fresh key prefix that is deleted
 * after the run (outside the measured time); we report each variant's median over the rounds.
 * A ratio is the median of the per-round ratios, each taken between runs that were neighbours
 * in time, so drift of a busy machine cancels out (as in the PostgreSQL and store benchmarks).
 *
 * The store is the built package (dist/, what users run; `npm run bench` builds it first): run
 * from src/ through tsx, every closure would pay for esbuild's keepNames wrapper, a cost the
 * shipped code does not have.
 *
 *   npm run build && ONCEKEY_BENCH_REDIS_URL=redis://127.0.0.1:6379 npx tsx bench/redis.ts [--json]
 *     [--duration-ms 1000] [--rounds 5] [--concurrency 32]
 *
 * The URL defaults to ONCEKEY_TEST_REDIS_URL, then redis://127.0.0.1:6379. Only keys under
 * `oncekey-bench:` are written, and they are removed.
 */
import { randomBytes } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { recommendedRedisOptions, redisStore } from '../dist/store/redis/index.js';
import { FINGERPRINT, LEASE_MS, OUTCOME, SCOPE, TTL_MS } from './lib/fixture.js';
import { inFlight } from './lib/loop.js';
import { deleteRedisKeys, redisUrl } from './lib/services.js';
import { median, pairedRatio } from './lib/stats.js';

export interface RedisBenchOptions {
  /** Server to measure; default ONCEKEY_BENCH_REDIS_URL, ONCEKEY_TEST_REDIS_URL, or redis://127.0.0.1:6379. */
  readonly url?: string;
  /** How long each measured run lasts; default 1000 ms. */
  readonly durationMs?: number;
  /** Measured rounds (every variant once per round); default 5. */
  readonly rounds?: number;
  /** Warm-up run length per variant before the first round; default 300 ms. */
  readonly warmupMs?: number;
  /** begin+commit pairs in flight at once; default 32. */
  readonly concurrency?: number;
}

export interface RedisBenchResult {
  /** `redisStore`, `bare ioredis SET NX + SET`, or the fenced-commit floor. */
  readonly name: string;
  /** Median `begin`+`commit` pairs per second over the rounds. */
  readonly opsPerSec: number;
  /** Every round's ops/s, in round order. */
  readonly runs: readonly number[];
  /** Median over rounds of its ops/s divided by the bare loop's in the same round (not on the bare row). */
  readonly ratioToBare?: number;
  /** For redisStore: median over rounds of its ops/s divided by the fenced-commit loop's in the same round. */
  readonly ratioToFenced?: number;
  readonly concurrency: number;
}

const BARE = 'bare ioredis SET NX + SET';
const FENCED = 'bare ioredis SET NX + fenced SET (smallest Lua)';
const STORE = 'redisStore';

interface Variant {
  readonly name: string;
  /**
   * Runs pairs on fresh keys under `prefix` until `durationMs` passes; returns pairs done. The
   * caller times the whole call, the client's connection and close included.
   */
  run(prefix: string, durationMs: number): Promise<number>;
}

function storeVariant(url: string, concurrency: number): Variant {
  return {
    name: STORE,
    async run(prefix, durationMs) {
      // A URL: the store's own client, with recommendedRedisOptions (auto-pipelining on).
      const store = redisStore({ client: url, prefix });
      try {
        await store.ping();
        return (
          await inFlight(concurrency, durationMs, async (n) => {
            const ref = { scope: SCOPE, key: `key-${n}` };
            const r = await store.begin(ref, FINGERPRINT, { leaseMs: LEASE_MS, ttlMs: TTL_MS });
            if (r.kind !== 'acquired') throw new Error(`bench: expected acquired, got ${r.kind}`);
            await store.commit(ref, r.token, OUTCOME, TTL_MS);
          })
        ).ops;
      } finally {
        await store.close();
      }
    },
  };
}

/** The reference: the least a hand-written client does for the same job, nothing around it. */
function bareVariant(url: string, concurrency: number): Variant {
  return {
    name: BARE,
    async run(prefix, durationMs) {
      const client = new Redis(url, recommendedRedisOptions());
      try {
        await client.ping();
        return (
          await inFlight(concurrency, durationMs, async (n) => {
            const key = `${prefix}{${SCOPE}}:${n}`;
            const token = randomBytes(16).toString('base64url');
            const claimed = await client.set(key, `${token}:${FINGERPRINT}`, 'PX', LEASE_MS, 'NX');
            if (claimed !== 'OK') throw new Error('bench: bare SET NX did nothing');
            await client.set(key, OUTCOME, 'PX', TTL_MS);
          })
        ).ops;
      } finally {
        await client.quit();
      }
    },
  };
}

/**
 * The smallest commit that is fenced: the bare loop's plain second SET would overwrite a record
 * whose lease another holder took over, so a store must compare the token and write in one
 * atomic step, which Redis 7 offers only as a script (SET … IFEQ arrived in Redis 8.4). This is
 * the least such script: GET, compare, SET. No store on Redis 7 can be faster than this row.
 */
const FENCED_SET = `if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`;

function fencedVariant(url: string, concurrency: number): Variant {
  return {
    name: FENCED,
    async run(prefix, durationMs) {
      const client = new Redis(url, recommendedRedisOptions());
      try {
        const sha = String(await client.script('LOAD', FENCED_SET));
        return (
          await inFlight(concurrency, durationMs, async (n) => {
            const key = `${prefix}{${SCOPE}}:${n}`;
            const held = `${randomBytes(16).toString('base64url')}:${FINGERPRINT}`;
            const claimed = await client.set(key, held, 'PX', LEASE_MS, 'NX');
            if (claimed !== 'OK') throw new Error('bench: bare SET NX did nothing');
            if (Number(await client.evalsha(sha, 1, key, held, OUTCOME, TTL_MS)) !== 1) throw new Error('bench: fenced SET did nothing');
          })
        ).ops;
      } finally {
        await client.quit();
      }
    },
  };
}

/** Runs both variants, interleaved, and returns one result per variant. */
export async function benchRedis(options: RedisBenchOptions = {}): Promise<RedisBenchResult[]> {
  const url = options.url ?? redisUrl();
  const durationMs = options.durationMs ?? 1000;
  const rounds = options.rounds ?? 5;
  const warmupMs = options.warmupMs ?? 300;
  const concurrency = options.concurrency ?? 32;
  const variants = [bareVariant(url, concurrency), fencedVariant(url, concurrency), storeVariant(url, concurrency)];
  const base = `oncekey-bench:${process.pid}:${Date.now().toString(36)}:`;
  let runId = 0;
  const measure = async (v: Variant, ms: number): Promise<number> => {
    const prefix = `${base}${runId++}:`;
    try {
      const start = performance.now();
      const done = await v.run(prefix, ms);
      return Math.round((done * 1000) / (performance.now() - start));
    } finally {
      // Every key under the run's prefix, not timed.
      await deleteRedisKeys(url, `${prefix}*`);
    }
  };

  for (const v of variants) await measure(v, warmupMs);
  const runs = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round++) {
    // Alternate the order each round so neither variant always runs first.
    const order = round % 2 ? [...variants].reverse() : variants;
    for (const v of order) runs.get(v.name)!.push(await measure(v, durationMs));
  }
  const bare = runs.get(BARE)!;
  const fenced = runs.get(FENCED)!;
  return variants.map((v) => {
    const mine = runs.get(v.name)!;
    const result: RedisBenchResult = { name: v.name, opsPerSec: median(mine), runs: mine, concurrency };
    if (v.name === BARE) return result;
    return {
      ...result,
      ratioToBare: pairedRatio(mine, bare),
      ...(v.name === STORE ? { ratioToFenced: pairedRatio(mine, fenced) } : {}),
    };
  });
}

/** The results as a plain-text table. */
export function formatRedisBench(results: readonly RedisBenchResult[]): string {
  const pctOf = (r: number | undefined) => (r === undefined ? '' : `${(r * 100).toFixed(1)}%`);
  const rows = results.map((r) => [
    r.name,
    String(r.concurrency),
    r.opsPerSec.toLocaleString('en-US'),
    pctOf(r.ratioToBare),
    pctOf(r.ratioToFenced),
    r.runs.join(' '),
  ]);
  const header = ['begin+commit', 'in flight', 'ops/s (median)', 'vs bare', 'vs fenced floor', 'runs'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const durationMs = flag('--duration-ms');
  const rounds = flag('--rounds');
  const concurrency = flag('--concurrency');
  const results = await benchRedis({
    ...(durationMs ? { durationMs: Number(durationMs) } : {}),
    ...(rounds ? { rounds: Number(rounds) } : {}),
    ...(concurrency ? { concurrency: Number(concurrency) } : {}),
  });
  console.log(process.argv.includes('--json') ? JSON.stringify(results, null, 2) : formatRedisBench(results));
}
