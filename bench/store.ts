/**
 * Store benchmark: `begin` + `commit` operations per second on a fresh key each time, with a
 * realistic ~200-byte outcome, for memoryStore and sqliteStore (synchronous NORMAL and FULL),
 * beside a bare better-sqlite3 loop doing the least SQL that job needs — an insert-if-absent and a
 * fenced update, prepared once, on the same table and file settings — measured in the same run.
 *
 * Variants run interleaved, round after round, each on a fresh temporary file, so drift of the
 * machine (other load, thermal, page cache) hits every variant alike; we report the median.
 *
 *   npx tsx bench/store.ts [--json] [--duration-ms 1000] [--rounds 7]
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

export interface StoreBenchOptions {
  /** How long each measured run lasts; default 1000 ms. */
  readonly durationMs?: number;
  /** Measured rounds (every variant once per round); default 7. */
  readonly rounds?: number;
  /** Warm-up run length per variant before the first round; default 300 ms. */
  readonly warmupMs?: number;
}

export interface StoreBenchResult {
  /** e.g. `sqliteStore NORMAL`, `bare better-sqlite3 FULL`, `memoryStore`. */
  readonly name: string;
  /** Median `begin`+`commit` pairs per second over the rounds. */
  readonly opsPerSec: number;
  /** Every round's ops/s, in round order. */
  readonly runs: readonly number[];
  /**
   * Median CPU time (user + system) of this process per pair, in microseconds: steadier than
   * ops/s on a busy machine, since waiting for a CPU does not count.
   */
  readonly cpuUsPerOp: number;
  /** For sqliteStore: its median ops/s divided by the bare loop's with the same `synchronous`. */
  readonly ratioToBare?: number;
  /** For sqliteStore: the bare loop's CPU per pair divided by the store's (1 = same cost). */
  readonly cpuRatioToBare?: number;
}

const SCOPE = 'tenant-42 POST /v1/payments';
const FINGERPRINT = 'a3f1c9e2b7d45e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071';
const OUTCOME = JSON.stringify({
  status: 201,
  headers: { 'content-type': 'application/json' },
  body: { id: 'pay_3N9xQe2LkYb7Rz', amount: 4200, currency: 'eur', state: 'captured', created: 1_764_000_000 },
}).padEnd(200, ' ');
const LEASE_MS = 30_000;
const TTL_MS = 86_400_000;

type Sync = 'NORMAL' | 'FULL';

interface Variant {
  readonly name: string;
  /** Runs begin+commit pairs on fresh keys until `durationMs` passes; returns pairs done. */
  run(durationMs: number): Promise<number>;
}

/** Opens a fresh file per run so every run starts from the same state. */
function withTempFile<T>(fn: (path: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'oncekey-bench-'));
  return fn(join(dir, 'bench.db')).finally(() => rmSync(dir, { recursive: true, force: true }));
}

async function runStore(store: Store, durationMs: number): Promise<number> {
  const opts = { leaseMs: LEASE_MS, ttlMs: TTL_MS };
  const deadline = performance.now() + durationMs;
  let done = 0;
  try {
    while (performance.now() < deadline) {
      // Check the clock every 64 pairs only, so reading it costs nothing measurable.
      for (let i = 0; i < 64; i++) {
        const ref = { scope: SCOPE, key: `key-${done}` };
        const r = await store.begin(ref, FINGERPRINT, opts);
        if (r.kind !== 'acquired') throw new Error(`bench: expected acquired, got ${r.kind}`);
        await store.commit(ref, r.token, OUTCOME, TTL_MS);
        done++;
      }
    }
  } finally {
    await store.close();
  }
  return done;
}

function sqliteVariant(synchronous: Sync): Variant {
  return {
    name: `sqliteStore ${synchronous}`,
    run: (durationMs) => withTempFile((path) => runStore(sqliteStore({ path, synchronous }), durationMs)),
  };
}

/** The reference: what a hand-written loop on the driver costs, with nothing of the store around it. */
function bareVariant(synchronous: Sync): Variant {
  return {
    name: `bare better-sqlite3 ${synchronous}`,
    run: (durationMs) =>
      withTempFile(async (path) => {
        const db = new Database(path, { timeout: 5000 });
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
          const deadline = performance.now() + durationMs;
          let done = 0;
          while (performance.now() < deadline) {
            for (let i = 0; i < 64; i++) {
              const key = `key-${done}`;
              const now = Date.now();
              if (insert.run(SCOPE, key, FINGERPRINT, now, now + TTL_MS, token, now + LEASE_MS).changes !== 1) {
                throw new Error('bench: bare insert did nothing');
              }
              if (update.run(OUTCOME, now, now + TTL_MS, SCOPE, key, token).changes !== 1) {
                throw new Error('bench: bare update did nothing');
              }
              done++;
            }
          }
          return done;
        } finally {
          db.close();
        }
      }),
  };
}

function memoryVariant(): Variant {
  return {
    name: 'memoryStore',
    // Bounded like in production: fresh keys past maxRecords evict the oldest completed records.
    run: (durationMs) => runStore(memoryStore(), durationMs),
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs every variant, interleaved, and returns one result per variant. */
export async function benchStores(options: StoreBenchOptions = {}): Promise<StoreBenchResult[]> {
  const durationMs = options.durationMs ?? 1000;
  const rounds = options.rounds ?? 7;
  const warmupMs = options.warmupMs ?? 300;
  const variants: Variant[] = [
    bareVariant('NORMAL'),
    sqliteVariant('NORMAL'),
    bareVariant('FULL'),
    sqliteVariant('FULL'),
    memoryVariant(),
  ];
  for (const v of variants) await v.run(warmupMs);
  const runs = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  const cpu = new Map<string, number[]>(variants.map((v) => [v.name, []]));
  for (let round = 0; round < rounds; round++) {
    // Alternate the order each round so neither of a pair always runs first.
    const order = round % 2 ? [...variants].reverse() : variants;
    for (const v of order) {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      const done = await v.run(durationMs);
      const elapsed = performance.now() - start;
      const used = process.cpuUsage(cpuStart);
      runs.get(v.name)!.push(Math.round((done * 1000) / elapsed));
      cpu.get(v.name)!.push((used.user + used.system) / done);
    }
  }
  const ops = (name: string) => median(runs.get(name)!);
  const cpuPerOp = (name: string) => median(cpu.get(name)!);
  const round3 = (x: number) => Math.round(x * 1000) / 1000;
  return variants.map((v) => {
    const result: StoreBenchResult = { name: v.name, opsPerSec: ops(v.name), runs: runs.get(v.name)!, cpuUsPerOp: round3(cpuPerOp(v.name)) };
    const sync = /^sqliteStore (NORMAL|FULL)$/.exec(v.name)?.[1];
    if (!sync) return result;
    const bare = `bare better-sqlite3 ${sync}`;
    return { ...result, ratioToBare: round3(ops(v.name) / ops(bare)), cpuRatioToBare: round3(cpuPerOp(bare) / cpuPerOp(v.name)) };
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
    r.runs.join(' '),
  ]);
  const header = ['begin+commit', 'ops/s (median)', 'vs bare', 'CPU µs/op', 'vs bare (CPU)', 'ops/s per round'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const durationMs = flag('--duration-ms');
  const rounds = flag('--rounds');
  const results = await benchStores({
    ...(durationMs ? { durationMs: Number(durationMs) } : {}),
    ...(rounds ? { rounds: Number(rounds) } : {}),
  });
  console.log(process.argv.includes('--json') ? JSON.stringify(results, null, 2) : formatStoreBench(results));
}
