/**
 * Scale: how `begin` latency and the store's footprint grow with the number of stored keys, per
 * store (memory, SQLite, PostgreSQL, Redis), and how long `sweep` takes per 100k expired records.
 *
 * Filling. A template record is written by the store itself (`begin` + `commit`, a ~200-byte
 * outcome); the other records are copies of it under new keys, written in bulk in the store's own
 * layout: `INSERT … SELECT` from a generated series (SQLite, PostgreSQL), pipelined `SET … PX`
 * of the template's value and remaining TTL under the store's key names (Redis: a record is one
 * string with an expiry, and there is no index beside it). Memory is filled through `begin` +
 * `commit`. Keys spread over 100 scopes (tenants).
 *
 * Latency. At each size: `begin` on a fresh key (then `commit`, not timed) and `begin` on a
 * random stored key (a replay hit), one at a time, p50 and p99 over `samples` calls after a
 * warm-up. Ratios are against the smallest size of the same store.
 *
 * Footprint. Memory: V8 heap growth after a forced GC. SQLite: database + WAL file size after a
 * checkpoint. PostgreSQL: `pg_total_relation_size` (table, indexes, TOAST). Redis: `MEMORY USAGE`
 * of sampled records times their count (the records are all there is).
 *
 * Sweep. Records written at T with a 1 h TTL, then the store's injected clock is moved to T + 2 h
 * and `sweep()` timed until it has removed them all; beside it the bare minimum on the same data:
 * one `DELETE … WHERE expires_at <= now` (SQLite, PostgreSQL), SCAN + UNLINK of the keys (Redis),
 * `Map.delete` of each key (memory).
 *
 *   npx tsx bench/scale.ts [--json] [--quick] [--full] [--stores memory,sqlite,postgres,redis]
 *
 * Sizes: 10k and 100k by default, plus 1M with `--full`; `--quick` uses 1k and 5k.
 */
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Clock, KeyRef, Store } from '../src/store/contract.js';
import { memoryStore } from '../src/store/memory.js';
import { postgresStore } from '../src/store/postgres/index.js';
import { redisStore } from '../src/store/redis/index.js';
import { KeySpace } from '../src/store/redis/keys.js';
import { sqliteStore } from '../src/store/sqlite.js';
import { FINGERPRINT, LEASE_MS, OUTCOME } from './lib/fixture.js';
import { type Column, type Topic, formatText } from './lib/report.js';
import { deleteRedisKeys, postgresProblem, postgresUrl, redisProblem, redisUrl } from './lib/services.js';
import { percentile, ratio, round } from './lib/stats.js';

export type ScaleStoreName = 'memory' | 'sqlite' | 'postgres' | 'redis';

export interface ScaleOptions {
  /** Stored-key counts to measure at, ascending; default [10 000, 100 000] (full: + 1 000 000). */
  readonly sizes?: readonly number[];
  /** Timed calls per latency figure; default 2000. */
  readonly samples?: number;
  /** Expired records per sweep measurement; default 100 000. */
  readonly sweepRecords?: number;
  readonly stores?: readonly ScaleStoreName[];
  /** `null` skips the store; default the test URL if it answers. */
  readonly postgresUrl?: string | null;
  readonly redisUrl?: string | null;
  readonly quick?: boolean;
  readonly full?: boolean;
  readonly log?: (line: string) => void;
}

export interface ScaleRow {
  readonly store: ScaleStoreName;
  /** Records stored when measured. */
  readonly size: number;
  /** `begin` on a fresh key, microseconds. */
  readonly beginP50Us: number;
  readonly beginP99Us: number;
  /** `begin` on a stored completed key (replay), microseconds. */
  readonly replayP50Us: number;
  readonly replayP99Us: number;
  /** Footprint of all records, bytes, and per record. */
  readonly bytes: number;
  readonly bytesPerKey: number;
  /** Against the smallest size of the same store. */
  readonly beginP50Growth: number;
  readonly beginP99Growth: number;
  readonly replayP50Growth: number;
  readonly replayP99Growth: number;
  /** Seconds spent filling up to this size (from the previous one). */
  readonly fillSeconds: number;
}

export interface SweepRow {
  readonly store: ScaleStoreName;
  readonly records: number;
  /** `sweep()` until every expired record is gone. */
  readonly sweepMs: number;
  /** The same, scaled to 100 000 records. */
  readonly msPer100k: number;
  /** The bare minimum on the same data. */
  readonly bareMs: number;
  readonly bare: string;
  /** sweepMs / bareMs: how many times longer the store takes. */
  readonly timeVsBare: number;
  /** Records the store reported removed (must equal `records`). */
  readonly removed: number;
}

export interface ScaleResult {
  readonly rows: readonly ScaleRow[];
  readonly sweeps: readonly SweepRow[];
  readonly sizes: readonly number[];
  readonly samples: number;
  readonly skipped: readonly string[];
  readonly footprint: Readonly<Partial<Record<ScaleStoreName, string>>>;
}

const SCOPES = 100;
/** 1 h, not the fixture's 24 h: the sweep moves the clock to T + 2 h to expire every record. */
const TTL_MS = 3_600_000;
const OPTS = { leaseMs: LEASE_MS, ttlMs: TTL_MS };
const TEMPLATE: KeyRef = { scope: 'template', key: 'template' };
const FOOTPRINT: Record<ScaleStoreName, string> = {
  memory: 'V8 heap growth after a forced GC',
  sqlite: 'database + WAL file size after a checkpoint',
  postgres: 'pg_total_relation_size (table + indexes + TOAST)',
  redis: 'MEMORY USAGE of 500 sampled records × count (one string per record, no index)',
};

const scopeOf = (n: number) => `tenant-${n % SCOPES} POST /v1/payments`;
const refOf = (n: number): KeyRef => ({ scope: scopeOf(n), key: `k-${n}` });

/** A mutable clock for the sweep measurements. */
class ManualClock implements Clock {
  constructor(public t: number) {}
  now(): number {
    return this.t;
  }
}

let gcFn: (() => void) | undefined;
/** A full GC, whether or not node was started with --expose-gc. */
function gc(): void {
  if (!gcFn) {
    setFlagsFromString('--expose-gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

async function writeTemplate(store: Store): Promise<void> {
  const r = await store.begin(TEMPLATE, FINGERPRINT, OPTS);
  if (r.kind !== 'acquired') throw new Error(`scale: template begin answered ${r.kind}`);
  await store.commit(TEMPLATE, r.token, OUTCOME, TTL_MS);
}

/** One store at growing sizes: its Store, a bulk filler and a footprint probe. */
interface Backend {
  readonly name: ScaleStoreName;
  readonly store: Store;
  /** Make records `k-from` … `k-(to-1)` exist, completed. */
  fill(from: number, to: number): Promise<void>;
  /** Footprint in bytes of everything stored. */
  bytes(): Promise<number>;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Backends

async function memoryBackend(maxSize: number, clock?: Clock): Promise<Backend> {
  gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const store = memoryStore({ maxRecords: maxSize * 2 + 100_000, ...(clock ? { clock } : {}) });
  await writeTemplate(store);
  return {
    name: 'memory',
    store,
    async fill(from, to) {
      for (let n = from; n < to; n++) {
        const ref = refOf(n);
        const r = await store.begin(ref, FINGERPRINT, OPTS);
        if (r.kind !== 'acquired') throw new Error(`scale: fill begin answered ${r.kind}`);
        await store.commit(ref, r.token, OUTCOME, TTL_MS);
      }
    },
    async bytes() {
      gc();
      return process.memoryUsage().heapUsed - heapBefore;
    },
    close: () => store.close(),
  };
}

/** Columns of the records table other than scope and key: copied from the template row. */
function sqliteColumns(db: Database.Database, table: string): string[] {
  const info = db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[];
  return info.map((c) => c.name).filter((c) => c !== 'scope' && c !== 'key');
}

async function sqliteBackend(clock?: Clock): Promise<Backend & { bareSweep(now: number): number; refill(n: number): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'oncekey-scale-'));
  const path = join(dir, 'scale.db');
  const table = 'oncekey_keys';
  const store = sqliteStore({ path, table, ...(clock ? { clock } : {}) });
  await writeTemplate(store);
  const db = new Database(path, { timeout: 10_000 });
  db.pragma('journal_mode = WAL');
  const cols = sqliteColumns(db, table);
  const copy = db.prepare(
    `WITH RECURSIVE seq(n) AS (SELECT CAST(? AS INTEGER) UNION ALL SELECT n + 1 FROM seq WHERE n + 1 < ?)
     INSERT INTO "${table}" (scope, key, ${cols.join(', ')})
     SELECT 'tenant-' || (n % ${SCOPES}) || ' POST /v1/payments', 'k-' || n, ${cols.map((c) => `tpl.${c}`).join(', ')}
     FROM seq, "${table}" AS tpl WHERE tpl.scope = ? AND tpl.key = ?`,
  );
  const fill = async (from: number, to: number) => {
    for (let start = from; start < to; start += 100_000) {
      const end = Math.min(to, start + 100_000);
      const changes = copy.run(start, end, TEMPLATE.scope, TEMPLATE.key).changes;
      if (changes !== end - start) throw new Error(`scale: sqlite copy wrote ${changes} rows, expected ${end - start}`);
      await new Promise((r) => setImmediate(r));
    }
  };
  return {
    name: 'sqlite',
    store,
    fill,
    async bytes() {
      db.pragma('wal_checkpoint(TRUNCATE)');
      const size = (p: string) => {
        try {
          return statSync(p).size;
        } catch {
          return 0;
        }
      };
      return size(path) + size(`${path}-wal`);
    },
    bareSweep(now) {
      const start = performance.now();
      const removed = db.prepare(`DELETE FROM "${table}" WHERE expires_at <= ?`).run(now).changes;
      const ms = performance.now() - start;
      if (removed === 0) throw new Error('scale: bare sqlite delete removed nothing');
      return ms;
    },
    async refill(n) {
      await writeTemplate(store);
      await fill(0, n);
    },
    async close() {
      db.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresBackend(
  url: string,
  clock?: Clock,
): Promise<Backend & { bareSweep(now: number): Promise<number>; refill(n: number): Promise<void> }> {
  const schema = `oncekey_scale_${randomBytes(4).toString('hex')}`;
  const table = 'oncekey_keys';
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined);
  const store = postgresStore({ pool, schema, table, ...(clock ? { clock } : {}) });
  await store.migrate();
  await writeTemplate(store);
  const t = `"${schema}"."${table}"`;
  const info = await pool.query<{ column_name: string }>(
    `SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position`,
    [schema, table],
  );
  const cols = info.rows.map((r) => r.column_name).filter((c) => c !== 'scope' && c !== 'key');
  const fill = async (from: number, to: number) => {
    for (let start = from; start < to; start += 100_000) {
      const end = Math.min(to, start + 100_000);
      const r = await pool.query(
        `INSERT INTO ${t} (scope, key, ${cols.join(', ')})
         SELECT 'tenant-' || (n % ${SCOPES}) || ' POST /v1/payments', 'k-' || n, ${cols.map((c) => `tpl.${c}`).join(', ')}
         FROM generate_series($1::int, $2::int - 1) AS n, ${t} AS tpl WHERE tpl.scope = $3 AND tpl.key = $4`,
        [start, end, TEMPLATE.scope, TEMPLATE.key],
      );
      if (r.rowCount !== end - start) throw new Error(`scale: postgres copy wrote ${r.rowCount} rows, expected ${end - start}`);
    }
    // What autovacuum would do soon after such a load; without it the planner guesses.
    await pool.query(`VACUUM ANALYZE ${t}`);
  };
  return {
    name: 'postgres',
    store,
    fill,
    async bytes() {
      const r = await pool.query<{ size: string }>(`SELECT pg_total_relation_size($1::regclass) AS size`, [t]);
      return Number(r.rows[0]!.size);
    },
    async bareSweep(now) {
      const start = performance.now();
      const r = await pool.query(`DELETE FROM ${t} WHERE expires_at <= $1`, [now]);
      const ms = performance.now() - start;
      if (!r.rowCount) throw new Error('scale: bare postgres delete removed nothing');
      return ms;
    },
    async refill(n) {
      await writeTemplate(store);
      await fill(0, n);
    },
    async close() {
      await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
      await store.close();
      await pool.end().catch(() => undefined);
    },
  };
}

async function redisBackend(
  url: string,
  clock?: Clock,
): Promise<Backend & { bareSweep(): Promise<number>; refill(n: number): Promise<void>; prefix: string }> {
  const base = `oncekey-bench-scale:${process.pid}-${randomBytes(3).toString('hex')}`;
  let generation = 0;
  let prefix = `${base}:${generation}:`;
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  let store = redisStore({ client: url, prefix, ...(clock ? { clock } : {}) });
  let keys = new KeySpace(prefix);
  let value: Buffer;
  let pttl: number;
  const template = async () => {
    await writeTemplate(store);
    value = (await client.getBuffer(keys.record(TEMPLATE.scope, TEMPLATE.key)))!;
    pttl = await client.pttl(keys.record(TEMPLATE.scope, TEMPLATE.key));
    if (!value || pttl <= 0) throw new Error('scale: redis template record not found');
  };
  await template();
  let recordsStored = 0;
  const fill = async (from: number, to: number) => {
    recordsStored = Math.max(recordsStored, to);
    for (let start = from; start < to; start += 5000) {
      const batch = client.pipeline();
      for (let n = start; n < Math.min(to, start + 5000); n++) {
        const ref = refOf(n);
        batch.set(keys.record(ref.scope, ref.key), value, 'PX', pttl);
      }
      const results = await batch.exec();
      const failed = results?.find(([error]) => error);
      if (failed) throw failed[0];
    }
  };
  return {
    name: 'redis' as const,
    get store() {
      return store;
    },
    get prefix() {
      return prefix;
    },
    fill,
    async bytes() {
      const sample: string[] = [];
      let cursor = '0';
      do {
        const [next, names] = await client.scan(cursor, 'MATCH', `${prefix}*:r:*`, 'COUNT', 1000);
        cursor = next;
        sample.push(...names);
      } while (cursor !== '0' && sample.length < 500);
      let recordBytes = 0;
      for (const name of sample.slice(0, 500)) recordBytes += Number(await client.memory('USAGE', name));
      const perRecord = recordBytes / Math.min(500, sample.length);
      return Math.round(perRecord * recordsStored);
    },
    async bareSweep() {
      const start = performance.now();
      const removed = await deleteRedisKeys(url, `${prefix}*`);
      const ms = performance.now() - start;
      if (removed === 0) throw new Error('scale: bare redis delete removed nothing');
      return ms;
    },
    /** A second copy of the same records under a new prefix, for the bare delete. */
    async refill(n: number) {
      await store.close();
      prefix = `${base}:${++generation}:`;
      keys = new KeySpace(prefix);
      store = redisStore({ client: url, prefix, ...(clock ? { clock } : {}) });
      await template();
      await fill(0, n);
    },
    async close() {
      await store.close();
      await deleteRedisKeys(url, `${base}:*`);
      client.disconnect();
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Measurements

async function latencies(store: Store, size: number, samples: number, tag: string): Promise<{ begin: number[]; replay: number[] }> {
  const begin: number[] = [];
  const replay: number[] = [];
  const warmup = Math.min(200, samples);
  let seed = size * 7919 + 17;
  const random = () => {
    // xorshift: reproducible replay keys without Math.random.
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) / 2 ** 32;
  };
  for (let i = 0; i < warmup + samples; i++) {
    const fresh: KeyRef = { scope: scopeOf(i), key: `fresh-${tag}-${i}` };
    let t = performance.now();
    const r = await store.begin(fresh, FINGERPRINT, OPTS);
    const beginUs = (performance.now() - t) * 1000;
    if (r.kind !== 'acquired') throw new Error(`scale: fresh begin answered ${r.kind}`);
    await store.commit(fresh, r.token, OUTCOME, TTL_MS);
    const stored = refOf(Math.floor(random() * size));
    t = performance.now();
    const h = await store.begin(stored, FINGERPRINT, OPTS);
    const replayUs = (performance.now() - t) * 1000;
    if (h.kind !== 'replay') throw new Error(`scale: stored key ${stored.key} answered ${h.kind}, expected replay`);
    if (i >= warmup) {
      begin.push(beginUs);
      replay.push(replayUs);
    }
  }
  return { begin, replay };
}

async function growth(backend: Backend, sizes: readonly number[], samples: number, log: (s: string) => void): Promise<ScaleRow[]> {
  const rows: ScaleRow[] = [];
  let stored = 0;
  for (const size of sizes) {
    const start = performance.now();
    log(`scale: ${backend.name} filling to ${size.toLocaleString('en-US')}`);
    await backend.fill(stored, size);
    stored = size;
    const fillSeconds = round((performance.now() - start) / 1000, 1);
    const bytes = await backend.bytes();
    log(`scale: ${backend.name} timing begin at ${size.toLocaleString('en-US')}`);
    const l = await latencies(backend.store, size, samples, String(size));
    const first = rows[0];
    const p = (v: number[], q: number) => round(percentile(v, q), 1);
    const row = {
      store: backend.name,
      size,
      beginP50Us: p(l.begin, 50),
      beginP99Us: p(l.begin, 99),
      replayP50Us: p(l.replay, 50),
      replayP99Us: p(l.replay, 99),
      bytes,
      bytesPerKey: Math.round(bytes / size),
      fillSeconds,
    };
    rows.push({
      ...row,
      beginP50Growth: ratio(row.beginP50Us, first?.beginP50Us ?? row.beginP50Us),
      beginP99Growth: ratio(row.beginP99Us, first?.beginP99Us ?? row.beginP99Us),
      replayP50Growth: ratio(row.replayP50Us, first?.replayP50Us ?? row.replayP50Us),
      replayP99Growth: ratio(row.replayP99Us, first?.replayP99Us ?? row.replayP99Us),
    });
  }
  return rows;
}

/** Time `sweep()` until it has nothing left; returns ms and records removed. */
async function timeSweep(store: Store): Promise<{ ms: number; removed: number }> {
  const start = performance.now();
  let removed = 0;
  for (;;) {
    const n = await store.sweep();
    removed += n;
    if (n === 0) break;
  }
  return { ms: performance.now() - start, removed };
}

/** `records` expired records: the template the store wrote plus `records - 1` copies. */
async function sweepRow(name: ScaleStoreName, records: number, urls: { postgres?: string; redis?: string }): Promise<SweepRow> {
  const copies = records - 1;
  const t0 = Date.now();
  const clock = new ManualClock(t0);
  const expire = () => (clock.t = t0 + 2 * TTL_MS);
  const row = (sweep: { ms: number; removed: number }, bareMs: number, bare: string): SweepRow => ({
    store: name,
    records,
    sweepMs: round(sweep.ms, 1),
    msPer100k: round((sweep.ms * 100_000) / records, 1),
    bareMs: round(bareMs, 1),
    bare,
    timeVsBare: ratio(sweep.ms, bareMs),
    removed: sweep.removed,
  });
  if (name === 'memory') {
    const b = await memoryBackend(records, clock);
    try {
      await b.fill(0, copies);
      expire();
      const sweep = await timeSweep(b.store);
      const map = new Map<string, string>();
      for (let n = 0; n < records; n++) map.set(`${scopeOf(n)}\u0000k-${n}`, OUTCOME);
      const start = performance.now();
      for (let n = 0; n < records; n++) map.delete(`${scopeOf(n)}\u0000k-${n}`);
      return row(sweep, performance.now() - start, 'Map.delete of each key');
    } finally {
      await b.close();
    }
  }
  if (name === 'sqlite') {
    const b = await sqliteBackend(clock);
    try {
      await b.fill(0, copies);
      expire();
      const sweep = await timeSweep(b.store);
      clock.t = t0;
      await b.refill(copies);
      expire();
      return row(sweep, b.bareSweep(clock.now()), 'one DELETE … WHERE expires_at <= now');
    } finally {
      await b.close();
    }
  }
  if (name === 'postgres') {
    const b = await postgresBackend(urls.postgres!, clock);
    try {
      await b.fill(0, copies);
      expire();
      const sweep = await timeSweep(b.store);
      clock.t = t0;
      await b.refill(copies);
      expire();
      return row(sweep, await b.bareSweep(clock.now()), 'one DELETE … WHERE expires_at <= now');
    } finally {
      await b.close();
    }
  }
  const b = await redisBackend(urls.redis!, clock);
  try {
    await b.fill(0, copies);
    expire();
    const sweep = await timeSweep(b.store);
    clock.t = t0;
    await b.refill(copies);
    return row(sweep, await b.bareSweep(), 'SCAN MATCH + UNLINK of the same keys');
  } finally {
    await b.close();
  }
}

/** Every store's growth rows and sweep row. */
export async function benchScale(options: ScaleOptions = {}): Promise<ScaleResult> {
  const log = options.log ?? (() => undefined);
  const sizes = options.sizes ?? (options.quick ? [1000, 5000] : options.full ? [10_000, 100_000, 1_000_000] : [10_000, 100_000]);
  const samples = options.samples ?? (options.quick ? 200 : 2000);
  const sweepRecords = options.sweepRecords ?? (options.quick ? 2000 : 100_000);
  const wanted = options.stores ?? ['memory', 'sqlite', 'postgres', 'redis'];
  const skipped: string[] = [];
  const urls: { postgres?: string; redis?: string } = {};
  if (wanted.includes('postgres')) {
    const url = options.postgresUrl === undefined ? postgresUrl() : options.postgresUrl;
    const problem = url === null ? 'disabled' : await postgresProblem(url);
    if (problem) skipped.push(`PostgreSQL skipped: ${problem}`);
    else urls.postgres = url!;
  }
  if (wanted.includes('redis')) {
    const url = options.redisUrl === undefined ? redisUrl() : options.redisUrl;
    const problem = url === null ? 'disabled' : await redisProblem(url);
    if (problem) skipped.push(`Redis skipped: ${problem}`);
    else urls.redis = url!;
  }
  const stores = wanted.filter((s) => (s === 'postgres' ? urls.postgres : s === 'redis' ? urls.redis : true));
  const rows: ScaleRow[] = [];
  const sweeps: SweepRow[] = [];
  const footprint: Partial<Record<ScaleStoreName, string>> = {};
  const maxSize = sizes[sizes.length - 1]!;
  for (const name of stores) {
    footprint[name] = FOOTPRINT[name];
    const backend =
      name === 'memory'
        ? await memoryBackend(maxSize)
        : name === 'sqlite'
          ? await sqliteBackend()
          : name === 'postgres'
            ? await postgresBackend(urls.postgres!)
            : await redisBackend(urls.redis!);
    try {
      rows.push(...(await growth(backend, sizes, samples, log)));
    } finally {
      await backend.close();
    }
    gc();
    log(`scale: ${name} sweep of ${sweepRecords.toLocaleString('en-US')} expired records`);
    sweeps.push(await sweepRow(name, sweepRecords, urls));
    gc();
  }
  return { rows, sweeps, sizes, samples, skipped, footprint };
}

/** The growth and sweep tables of `npm run bench`. */
export function scaleTopics(result: ScaleResult, mode: string): Topic[] {
  const growthColumns: Column[] = [
    { key: 'store', label: 'store', kind: 'text' },
    { key: 'size', label: 'stored keys', kind: 'int' },
    { key: 'beginP50Us', label: 'begin p50 µs', kind: 'float' },
    { key: 'beginP50Growth', label: 'p50 growth', kind: 'ratio' },
    { key: 'beginP99Us', label: 'begin p99 µs', kind: 'float' },
    { key: 'beginP99Growth', label: 'p99 growth', kind: 'ratio' },
    { key: 'replayP50Us', label: 'replay p50 µs', kind: 'float' },
    { key: 'replayP50Growth', label: 'p50 growth', kind: 'ratio' },
    { key: 'replayP99Us', label: 'replay p99 µs', kind: 'float' },
    { key: 'replayP99Growth', label: 'p99 growth', kind: 'ratio' },
    { key: 'bytesPerKey', label: 'bytes/key', kind: 'int' },
    { key: 'mib', label: 'total MiB', kind: 'float' },
    { key: 'fillSeconds', label: 'fill s', kind: 'float' },
  ];
  const sweepColumns: Column[] = [
    { key: 'store', label: 'store', kind: 'text' },
    { key: 'records', label: 'expired records', kind: 'int' },
    { key: 'sweepMs', label: 'sweep ms', kind: 'float' },
    { key: 'msPer100k', label: 'ms per 100k', kind: 'float' },
    { key: 'bare', label: 'bare minimum', kind: 'text' },
    { key: 'bareMs', label: 'bare ms', kind: 'float' },
    { key: 'timeVsBare', label: 'time vs bare', kind: 'ratio' },
  ];
  const footprintNotes = Object.entries(result.footprint).map(([store, how]) => `${store} footprint: ${how}.`);
  const sweepNotes = result.sweeps
    .filter((s) => s.removed !== s.records)
    .map((s) => `${s.store}: sweep reported ${s.removed} records removed, expected ${s.records}.`);
  for (const s of result.sweeps) {
    // Batched removal costs more than one bulk statement by design, but not by an order of magnitude.
    if (s.timeVsBare > 10)
      sweepNotes.push(`${s.store}: sweep is far slower than the bare minimum (${s.timeVsBare.toPrecision(3)}× its time).`);
  }
  return [
    {
      topic: 'scale',
      title: 'Scale: begin latency and footprint by stored keys',
      method: `sizes ${result.sizes.map((s) => s.toLocaleString('en-US')).join(', ')} (${mode}); records filled in bulk in the store's own layout from a template the store wrote (memory: through begin+commit), keys over ${SCOPES} scopes; ${result.samples} sequential begin calls per figure after a warm-up`,
      baseline: "growth = the figure divided by the same store's figure at the smallest size",
      columns: growthColumns,
      rows: result.rows.map((r) => ({ ...r, mib: r.bytes / 2 ** 20 })),
      notes: [...result.skipped, ...footprintNotes],
    },
    {
      topic: 'sweep',
      title: 'Sweep: removing expired records',
      method:
        'records written at T with a 1 h TTL, the injected clock moved to T + 2 h, sweep() called until it returns 0; the bare minimum runs on an identical copy',
      baseline: "time vs bare = sweep time divided by the bare minimum's time on the same data (higher is slower)",
      columns: sweepColumns,
      rows: result.sweeps.map((s) => ({ ...s })),
      notes: [...result.skipped, ...sweepNotes],
    },
  ];
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const stores = arg('--stores')?.split(',') as ScaleStoreName[] | undefined;
  const quick = process.argv.includes('--quick');
  const full = process.argv.includes('--full');
  const result = await benchScale({ quick, full, ...(stores ? { stores } : {}), log: (l) => console.error(l) });
  if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
  else for (const t of scaleTopics(result, quick ? 'quick' : full ? 'full' : 'default')) console.log(`${formatText(t)}\n`);
}
