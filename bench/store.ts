/**
 * Store benchmark: `begin` + `commit` pairs per second on a fresh key each time, with a realistic
 * ~200-byte outcome, for memoryStore and sqliteStore (synchronous NORMAL and FULL), beside a bare
 * better-sqlite3 loop doing the least SQL that job needs — an insert-if-absent and a fenced update,
 * prepared once, on the same table in the same kind of file (WAL, same `synchronous`) — measured
 * in the same run; memoryStore sits beside a bare Map doing the same insert-if-absent and update.
 *
 * Variants run interleaved, round after round, each on a fresh temporary file; only the loop is
 * timed (opening and closing are not). The store/bare ratio is the median of the per-round ratios,
 * each taken between runs that were neighbours in time, so drift of a busy machine (other load,
 * page cache, thermal) cancels out. CPU time per pair is reported too: waiting for a CPU does
 * not count in it, so it stays meaningful when the machine is loaded.
 *
 *   npx tsx bench/store.ts [--json] [--duration-ms 300] [--rounds 15] [--outcome-bytes 200]
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Store } from '../src/store/contract.js';
import { memoryStore } from '../src/store/memory.js';
import { sqliteStore } from '../src/store/sqlite.js';
import { tableDdl } from '../src/store/sqlite/schema.js';
import { FINGERPRINT, LEASE_MS, SCOPE, TTL_MS, outcomeOf } from './lib/fixture.js';
import { median } from './lib/stats.js';

export interface StoreBenchOptions {
  /** How long each measured run lasts; default 300 ms. */
  readonly durationMs?: number;
  /** Measured rounds (every variant once per round); default 15. */
  readonly rounds?: number;
  /** Warm-up run length per variant before the first round; default 300 ms. */
  readonly warmupMs?: number;
  /** Size of the stored outcome; default 200 bytes (a small JSON response). */
  readonly outcomeBytes?: number;
}

export interface StoreBenchResult {
  /** e.g. `sqliteStore NORMAL`, `bare better-sqlite3 FULL`, `memoryStore`. */
  readonly name: string;
  /** Median `begin`+`commit` pairs per second over the rounds. */
  readonly opsPerSec: number;
  /** Every round's pairs per second, in round order. */
  readonly runs: readonly number[];
  /** Median CPU time (user + system) of this process per pair, in microseconds. */
  readonly cpuUsPerOp: number;
  /** For sqliteStore (and memoryStore): median over rounds of its ops/s divided by the bare loop's (same `synchronous`; a bare Map). */
  readonly ratioToBare?: number;
  /** For sqliteStore: median over rounds of the bare loop's CPU per pair divided by the store's. */
  readonly cpuRatioToBare?: number;
}

type Sync = 'NORMAL' | 'FULL';

interface Measure {
  readonly pairs: number;
  readonly ms: number;
  readonly cpuUs: number;
}

interface Variant {
  readonly name: string;
  run(durationMs: number, outcome: string): Promise<Measure>;
}

/**
 * Times `pair(i)` for fresh i until `durationMs` passes. The deadline is checked every 32 pairs
 * so reading the clock costs nothing measurable.
 */
async function timeLoop(durationMs: number, pair: (i: number) => Promise<void> | void): Promise<Measure> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + durationMs;
  let pairs = 0;
  while (performance.now() < deadline) {
    for (const end = pairs + 32; pairs < end; pairs++) await pair(pairs);
  }
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { pairs, ms, cpuUs: cpu.user + cpu.system };
}

async function inTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'oncekey-bench-'));
  try {
    return await fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function timeStore(store: Store, durationMs: number, outcome: string): Promise<Measure> {
  const opts = { leaseMs: LEASE_MS, ttlMs: TTL_MS };
  try {
    return await timeLoop(durationMs, async (i) => {
      const ref = { scope: SCOPE, key: `key-${i}` };
      const r = await store.begin(ref, FINGERPRINT, opts);
      if (r.kind !== 'acquired') throw new Error(`bench: expected acquired, got ${r.kind}`);
      await store.commit(ref, r.token, outcome, TTL_MS);
    });
  } finally {
    await store.close();
  }
}

function sqliteVariant(synchronous: Sync): Variant {
  return {
    name: `sqliteStore ${synchronous}`,
    run: (durationMs, outcome) =>
      inTempDir((dir) => timeStore(sqliteStore({ path: join(dir, 'bench.db'), synchronous }), durationMs, outcome)),
  };
}

/** The reference: a hand-written loop on the driver, with nothing of the store around it. */
function bareVariant(synchronous: Sync): Variant {
  return {
    name: `bare better-sqlite3 ${synchronous}`,
    run: (durationMs, outcome) =>
      inTempDir(async (dir) => {
        const db = new Database(join(dir, 'bench.db'), { timeout: 5000 });
        try {
          db.pragma('journal_mode = WAL');
          db.pragma(`synchronous = ${synchronous}`);
          db.exec(tableDdl('bare'));
          const insert = db.prepare(
            `INSERT INTO bare (scope, key, state, fingerprint, attempt, created_at, expires_at, token, lease_until)
             VALUES (?, ?, 'in_progress', ?, 1, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
          );
          const update = db.prepare(
            `UPDATE bare SET state = 'completed', outcome = ?, completed_at = ?, expires_at = ?, token = NULL, lease_until = NULL
             WHERE scope = ? AND key = ? AND token = ?`,
          );
          const token = '00000000-0000-4000-8000-000000000000';
          return await timeLoop(durationMs, (i) => {
            const key = `key-${i}`;
            const now = Date.now();
            if (insert.run(SCOPE, key, FINGERPRINT, now, now + TTL_MS, token, now + LEASE_MS).changes !== 1) {
              throw new Error('bench: bare insert did nothing');
            }
            if (update.run(outcome, now, now + TTL_MS, SCOPE, key, token).changes !== 1) {
              throw new Error('bench: bare update did nothing');
            }
          });
        } finally {
          db.close();
        }
      }),
  };
}

/**
 * The reference for memoryStore: a plain Map doing an insert-if-absent and a fenced update, no
 * promises, no bound, no expiry index — the least an in-memory record of the same job costs.
 */
function bareMapVariant(): Variant {
  return {
    name: 'bare Map',
    run: async (durationMs, outcome) => {
      const records = new Map<string, { state: string; token: string | undefined; outcome: string | undefined; expiresAt: number }>();
      const token = '00000000-0000-4000-8000-000000000000';
      return timeLoop(durationMs, (i) => {
        const key = `${SCOPE}\u0000key-${i}`;
        const now = Date.now();
        if (records.has(key)) throw new Error('bench: bare Map key exists');
        records.set(key, { state: 'in_progress', token, outcome: undefined, expiresAt: now + TTL_MS });
        const record = records.get(key);
        if (record?.token !== token) throw new Error('bench: bare Map update did nothing');
        record.state = 'completed';
        record.outcome = outcome;
        record.token = undefined;
      });
    },
  };
}

function memoryVariant(): Variant {
  // Bounded as in production (default maxRecords): past it, fresh keys evict the oldest completed.
  return { name: 'memoryStore', run: (durationMs, outcome) => timeStore(memoryStore(), durationMs, outcome) };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Runs every variant, interleaved, and returns one result per variant. */
export async function benchStores(options: StoreBenchOptions = {}): Promise<StoreBenchResult[]> {
  const durationMs = options.durationMs ?? 300;
  const rounds = options.rounds ?? 15;
  const warmupMs = options.warmupMs ?? 300;
  const outcome = outcomeOf(options.outcomeBytes ?? 200);
  // Each store sits next to its bare loop, so their runs in a round are neighbours in time.
  const variants: Variant[] = [
    bareVariant('NORMAL'),
    sqliteVariant('NORMAL'),
    bareVariant('FULL'),
    sqliteVariant('FULL'),
    bareMapVariant(),
    memoryVariant(),
  ];
  for (const v of variants) await v.run(warmupMs, outcome);
  const measures = new Map<string, Measure[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round++) {
    // Alternate the order each round so neither of a pair always runs first.
    const order = round % 2 ? [...variants].reverse() : variants;
    for (const v of order) measures.get(v.name)!.push(await v.run(durationMs, outcome));
  }
  const opsOf = (m: Measure) => (m.pairs * 1000) / m.ms;
  const cpuOf = (m: Measure) => m.cpuUs / m.pairs;
  return variants.map((v) => {
    const mine = measures.get(v.name)!;
    const result: StoreBenchResult = {
      name: v.name,
      opsPerSec: Math.round(median(mine.map(opsOf))),
      runs: mine.map((m) => Math.round(opsOf(m))),
      cpuUsPerOp: round3(median(mine.map(cpuOf))),
    };
    const sync = /^sqliteStore (NORMAL|FULL)$/.exec(v.name)?.[1];
    const bareName = sync ? `bare better-sqlite3 ${sync}` : v.name === 'memoryStore' ? 'bare Map' : undefined;
    if (!bareName) return result;
    const bare = measures.get(bareName)!;
    return {
      ...result,
      ratioToBare: round3(median(mine.map((m, i) => opsOf(m) / opsOf(bare[i]!)))),
      cpuRatioToBare: round3(median(mine.map((m, i) => cpuOf(bare[i]!) / cpuOf(m)))),
    };
  });
}

/** The results as a plain-text table. */
export function formatStoreBench(results: readonly StoreBenchResult[]): string {
  const pct = (x: number | undefined) => (x === undefined ? '' : `${(x * 100).toFixed(1)}%`);
  const rows = results.map((r) => [
    r.name,
    r.opsPerSec.toLocaleString('en-US'),
    pct(r.ratioToBare),
    r.cpuUsPerOp.toFixed(1),
    pct(r.cpuRatioToBare),
  ]);
  const header = ['begin+commit', 'ops/s (median)', 'vs bare', 'CPU µs/op', 'vs bare (CPU)'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

function flag(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const value = Number(process.argv[i + 1]);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} expects a positive number`);
  return value;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const durationMs = flag('--duration-ms');
  const rounds = flag('--rounds');
  const outcomeBytes = flag('--outcome-bytes');
  const results = await benchStores({
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(rounds === undefined ? {} : { rounds }),
    ...(outcomeBytes === undefined ? {} : { outcomeBytes }),
  });
  console.log(process.argv.includes('--json') ? JSON.stringify(results, null, 2) : formatStoreBench(results));
}
