/**
 * PostgreSQL store benchmark: `begin` + `commit` pairs per second on fresh keys, with a
 * ~200-byte outcome and `concurrency` pairs in flight, beside the bare minimum on the same server
 * in the same run: an insert-if-absent (`INSERT … ON CONFLICT DO NOTHING`) then a fenced update
 * (`UPDATE … WHERE token = $n`) that stamps the completion and its retention, prepared
 * statements, through the same kind of `pg` pool, on a table of the same layout, at the same
 * concurrency.
 *
 * Variants run interleaved, round after round, each on a fresh table that is dropped after the
 * run (outside the measured time). The store/bare ratio is the median of the per-round ratios,
 * each taken between runs that were neighbours in time, so drift of a busy machine cancels out.
 * This process's CPU per pair is reported too (the server's is not in it).
 *
 * The store is the built package (dist/, what users run; `npm run bench` builds it first): run
 * from src/ through tsx, every closure would pay for esbuild's keepNames wrapper, a cost the
 * shipped code does not have.
 *
 *   npm run build && ONCEKEY_BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test npx tsx bench/postgres.ts [--json]
 *     [--duration-ms 500] [--rounds 9] [--concurrency 16]
 *
 * The URL defaults to ONCEKEY_TEST_POSTGRES_URL, then postgres://postgres@127.0.0.1:5432/test.
 * Everything is written in a schema `oncekey_bench_<random>`, dropped at the end.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { postgresStore } from '../dist/store/postgres/index.js';
import { FINGERPRINT, LEASE_MS, OUTCOME, SCOPE, TTL_MS } from './lib/fixture.js';
import { type LoopResult, inFlight } from './lib/loop.js';
import { postgresUrl } from './lib/services.js';
import { median } from './lib/stats.js';

export interface PostgresBenchOptions {
  /** Server to measure; default ONCEKEY_BENCH_POSTGRES_URL, ONCEKEY_TEST_POSTGRES_URL, or the local test database. */
  readonly url?: string;
  /** How long each measured run lasts; default 500 ms. */
  readonly durationMs?: number;
  /** Measured rounds (every variant once per round); default 9. */
  readonly rounds?: number;
  /** Warm-up run length per variant before the first round; default 300 ms. */
  readonly warmupMs?: number;
  /** begin+commit pairs in flight at once (and pool size); default 16. */
  readonly concurrency?: number;
}

export interface PostgresBenchResult {
  /** `postgresStore` or `bare pg INSERT ON CONFLICT + UPDATE`. */
  readonly name: string;
  /** Median `begin`+`commit` pairs per second over the rounds. */
  readonly opsPerSec: number;
  /** Every round's ops/s, in round order. */
  readonly runs: readonly number[];
  /** Median CPU time (user + system) of this process per pair, in microseconds. */
  readonly cpuUsPerOp: number;
  /** For postgresStore: median over rounds of its ops/s divided by the bare loop's. */
  readonly ratioToBare?: number;
  readonly concurrency: number;
}

const BARE = 'bare pg INSERT ON CONFLICT + UPDATE';
const STORE = 'postgresStore';

interface Variant {
  readonly name: string;
  /** Runs pairs on fresh keys in `table` until `durationMs` passes; only the loop is timed. */
  run(table: string, durationMs: number): Promise<LoopResult>;
}

/** Each lane's own run of fresh keys: `key-<lane>-<i>`. */
const keyOf = (lane: number, i: number) => `key-${lane}-${i}`;

function storeVariant(pool: pg.Pool, schema: string, concurrency: number): Variant {
  return {
    name: STORE,
    async run(table, durationMs) {
      const store = postgresStore({ pool, schema, table });
      const opts = { leaseMs: LEASE_MS, ttlMs: TTL_MS };
      return inFlight(concurrency, durationMs, async (_n, lane, i) => {
        const ref = { scope: SCOPE, key: keyOf(lane, i) };
        const r = await store.begin(ref, FINGERPRINT, opts);
        if (r.kind !== 'acquired') throw new Error(`bench: expected acquired, got ${r.kind}`);
        await store.commit(ref, r.token, OUTCOME, TTL_MS);
      });
    },
  };
}

/** The reference: what a hand-written loop on the driver costs, with nothing of the store around it. */
function bareVariant(pool: pg.Pool, schema: string, concurrency: number): Variant {
  return {
    name: BARE,
    async run(table, durationMs) {
      const t = `"${schema}"."${table}"`;
      const fingerprint = Buffer.from(FINGERPRINT);
      const outcome = Buffer.from(OUTCOME);
      return inFlight(concurrency, durationMs, async (_n, lane, i) => {
        const key = keyOf(lane, i);
        const token = randomUUID();
        const now = Date.now();
        const inserted = await pool.query({
          name: `bare_insert_${table}`,
          text: `INSERT INTO ${t} (scope, key, state, fingerprint, attempt, created_at, expires_at, token, lease_until)
                 VALUES ($1, $2, 'in_progress', $3, 1, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
          values: [SCOPE, key, fingerprint, now, now + TTL_MS, token, now + LEASE_MS],
        });
        if (inserted.rowCount !== 1) throw new Error('bench: bare insert did nothing');
        // Retention counts from completion, as in every store: stamped now, not at the insert.
        // (Reusing the insert's time would leave the indexed expires_at unchanged, and the
        // server would make a HOT update that skips both index insertions, which no real
        // commit gets: that alone was ~5% of this loop's server CPU.)
        const done = Date.now();
        const updated = await pool.query({
          name: `bare_update_${table}`,
          text: `UPDATE ${t} SET state = 'completed', outcome = $1, completed_at = $2, expires_at = $3,
                 token = NULL, lease_until = NULL WHERE scope = $4 AND key = $5 AND token = $6`,
          values: [outcome, done, done + TTL_MS, SCOPE, key, token],
        });
        if (updated.rowCount !== 1) throw new Error('bench: bare update did nothing');
      });
    },
  };
}

/** Runs both variants, interleaved, and returns one result per variant. */
export async function benchPostgres(options: PostgresBenchOptions = {}): Promise<PostgresBenchResult[]> {
  const url = options.url ?? postgresUrl();
  const durationMs = options.durationMs ?? 500;
  const rounds = options.rounds ?? 9;
  const warmupMs = options.warmupMs ?? 300;
  const concurrency = options.concurrency ?? 16;
  const schema = `oncekey_bench_${randomBytes(4).toString('hex')}`;
  // Configured as the store's docs ask of a pool passed in (timeouts on the server and on the
  // client); both variants run on it, so both pay for them.
  const pool = new pg.Pool({ connectionString: url, max: concurrency, statement_timeout: 5000, query_timeout: 6000 });
  pool.on('error', () => undefined);
  let tables = 0;
  /** A fresh table of the store's layout (created by its own migrate), dropped after `fn`. */
  const onFreshTable = async <T>(fn: (table: string) => Promise<T>): Promise<T> => {
    const table = `run_${++tables}`;
    await postgresStore({ pool, schema, table }).migrate();
    try {
      return await fn(table);
    } finally {
      await pool.query(`DROP TABLE "${schema}"."${table}"`);
    }
  };
  try {
    const variants = [bareVariant(pool, schema, concurrency), storeVariant(pool, schema, concurrency)];
    for (const v of variants) await onFreshTable((table) => v.run(table, warmupMs));
    const measures = new Map<string, LoopResult[]>(variants.map((v) => [v.name, []]));
    for (let round = 0; round < rounds; round++) {
      // Alternate the order each round so neither always runs first.
      const order = round % 2 ? [...variants].reverse() : variants;
      for (const v of order) measures.get(v.name)!.push(await onFreshTable((table) => v.run(table, durationMs)));
    }
    const opsOf = (m: LoopResult) => m.opsPerSec;
    const cpuOf = (m: LoopResult) => m.cpuUs / m.ops;
    const round3 = (x: number) => Math.round(x * 1000) / 1000;
    const bare = measures.get(BARE)!;
    return variants.map((v) => {
      const mine = measures.get(v.name)!;
      const result: PostgresBenchResult = {
        name: v.name,
        opsPerSec: Math.round(median(mine.map(opsOf))),
        runs: mine.map((m) => Math.round(opsOf(m))),
        cpuUsPerOp: round3(median(mine.map(cpuOf))),
        concurrency,
      };
      return v.name === STORE ? { ...result, ratioToBare: round3(median(mine.map((m, i) => opsOf(m) / opsOf(bare[i]!)))) } : result;
    });
  } finally {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}

/** The results as a plain-text table. */
export function formatPostgresBench(results: readonly PostgresBenchResult[]): string {
  const rows = results.map((r) => [
    r.name,
    String(r.concurrency),
    r.opsPerSec.toLocaleString('en-US'),
    r.ratioToBare === undefined ? '' : `${(r.ratioToBare * 100).toFixed(1)}%`,
    r.cpuUsPerOp.toFixed(1),
    r.runs.join(' '),
  ]);
  const header = ['begin+commit', 'in flight', 'ops/s (median)', 'vs bare', 'client CPU µs/pair', 'runs'];
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
  const results = await benchPostgres({
    ...(durationMs ? { durationMs: Number(durationMs) } : {}),
    ...(rounds ? { rounds: Number(rounds) } : {}),
    ...(concurrency ? { concurrency: Number(concurrency) } : {}),
  });
  console.log(process.argv.includes('--json') ? JSON.stringify(results, null, 2) : formatPostgresBench(results));
}
