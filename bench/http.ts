/**
 * HTTP benchmark: requests per second, p50 and p99 for `POST /orders` (a ~100-byte JSON order in,
 * a ~100-byte JSON order out) on
 * - bare Hono (@hono/node-server), which is also the gateway's upstream ("upstream direct");
 * - Hono with the Oncekey middleware on memoryStore and on sqliteStore;
 * - the Oncekey gateway (sqliteStore) in front of the bare Hono app;
 * each on the miss path (a fresh Idempotency-Key per request: begin + handler + commit) and the
 * hit path (one key, every request a replay), all in one run.
 *
 * Every server runs in a process of its own (the gateway and its upstream in two), and the load
 * generator (autocannon, through lib/load.ts) in another, so no two of them share an event loop.
 * Each server is warmed up first; variants then run interleaved, round after round, and we report
 * the median round. The ratio to bare Hono on the same path is the median of the per-round
 * ratios, each taken between runs of the same round, so drift of a busy machine cancels out.
 *
 *   npx tsx bench/http.ts [--json] [--duration-ms 3000] [--rounds 3] [--connections 32]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { load as loadInChild } from './lib/load.js';
import { pairedRatio } from './lib/stats.js';

export interface HttpBenchOptions {
  /** Length of each measured run; default 3000 ms. */
  readonly durationMs?: number;
  /** Measured rounds (every variant and path once per round); default 3. */
  readonly rounds?: number;
  /** Warm-up run per server and path before the first round; default 1000 ms. */
  readonly warmupMs?: number;
  /** Concurrent connections of the load generator; default 32. */
  readonly connections?: number;
}

export type BenchPath = 'miss' | 'hit';

export interface HttpBenchResult {
  /** e.g. `bare Hono`, `Hono + Oncekey (sqlite)`, `gateway (sqlite)`. */
  readonly name: string;
  /** `miss`: a fresh key per request; `hit`: one key, replayed. */
  readonly path: BenchPath;
  /** Requests per second of the median round. */
  readonly requestsPerSec: number;
  /** Latency percentiles of the median round, in milliseconds. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Every round's requests per second, in round order. */
  readonly runs: readonly number[];
  /** Non-2xx answers and socket errors over all rounds; anything but 0 means the run is suspect. */
  readonly failures: number;
  /** Median over rounds of its requests per second divided by bare Hono's on the same path in the same round (bare Hono: 1). */
  readonly ratioToBaseline: number;
}

type ServerKind = 'hono' | 'hono-memory' | 'hono-sqlite' | 'gateway';

const VARIANTS: readonly { readonly kind: ServerKind; readonly name: string }[] = [
  { kind: 'hono', name: 'bare Hono (= upstream direct)' },
  { kind: 'hono-memory', name: 'Hono + Oncekey (memory)' },
  { kind: 'hono-sqlite', name: 'Hono + Oncekey (sqlite)' },
  { kind: 'gateway', name: 'gateway (sqlite) -> bare Hono' },
];

const SELF = fileURLToPath(import.meta.url);
const require = createRequire(import.meta.url);
const TSX = pathToFileURL(require.resolve('tsx')).href;
const BODY = JSON.stringify({ item: 'the-pragmatic-programmer', quantity: 2, note: 'leave at the door, please' });
const HIT_KEY = 'bench-hit-key';

/** One server in a child process; resolves once it prints the URL it listens on. */
async function startServer(kind: ServerKind, extra: string[] = []): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', TSX, SELF, '--serve', kind, ...extra], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      const match = /^listening (http:\/\/\S+)$/.exec(line);
      if (match) resolve(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`bench server ${kind} exited (${code}) before listening`)));
  });
  return { url, child };
}

interface Measured {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly failures: number;
}

/**
 * One autocannon run, in a process of its own. Miss: a fresh key per request, made by autocannon
 * (`bench-<id>`); hit: the one key completed beforehand, a static header.
 */
async function load(url: string, path: BenchPath, durationMs: number, connections: number): Promise<Measured> {
  const r = await loadInChild({
    url,
    method: 'POST',
    path: '/orders',
    body: BODY,
    keys: path === 'miss' ? { mode: 'fresh-id', prefix: 'bench' } : { mode: 'one', key: HIT_KEY },
    connections,
    durationSec: durationMs / 1000,
    warmupSec: 0,
  });
  return {
    rps: Math.round(r.total / r.seconds),
    p50: r.p50,
    p99: r.p99,
    failures: r.non2xx + r.errors + r.timeouts,
  };
}

/** The run whose requests per second is the median (so its latencies belong to one real run). */
function medianRun(runs: readonly Measured[]): Measured {
  const sorted = [...runs].sort((a, b) => a.rps - b.rps);
  return sorted[(sorted.length - 1) >> 1]!;
}

/** Runs every variant on both paths, interleaved, and returns one result per variant and path. */
export async function benchHttp(options: HttpBenchOptions = {}): Promise<HttpBenchResult[]> {
  const durationMs = options.durationMs ?? 3000;
  const rounds = options.rounds ?? 3;
  const warmupMs = options.warmupMs ?? 1000;
  const connections = options.connections ?? 32;
  const children: ChildProcess[] = [];
  const killAll = (): void => {
    for (const child of children) child.kill('SIGTERM');
  };
  process.once('exit', killAll); // even if this process dies of an error
  try {
    const urls = new Map<ServerKind, string>();
    for (const { kind } of VARIANTS) {
      const upstream = kind === 'gateway' ? ['--upstream', urls.get('hono')!] : [];
      const server = await startServer(kind, upstream);
      children.push(server.child);
      urls.set(kind, server.url);
    }
    for (const { kind } of VARIANTS) {
      const url = urls.get(kind)!;
      // The hit key's first request runs alone, so the measured runs only ever replay it.
      const first = await fetch(`${url}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': HIT_KEY },
        body: BODY,
      });
      if (first.status !== 201) throw new Error(`bench: ${kind} answered ${first.status} to the first request`);
      for (const path of ['miss', 'hit'] as const) await load(url, path, warmupMs, connections);
    }
    const runs = new Map<string, Measured[]>();
    for (let round = 0; round < rounds; round++) {
      // Alternate the order each round so no variant always runs first.
      const order = round % 2 ? [...VARIANTS].reverse() : VARIANTS;
      for (const { kind, name } of order) {
        for (const path of ['miss', 'hit'] as const) {
          const id = `${name}|${path}`;
          runs.set(id, [...(runs.get(id) ?? []), await load(urls.get(kind)!, path, durationMs, connections)]);
        }
      }
    }
    const results: HttpBenchResult[] = [];
    for (const path of ['miss', 'hit'] as const) {
      const baseline = runs.get(`${VARIANTS[0]!.name}|${path}`)!.map((r) => r.rps);
      for (const { name } of VARIANTS) {
        const all = runs.get(`${name}|${path}`)!;
        const median = medianRun(all);
        results.push({
          name,
          path,
          requestsPerSec: median.rps,
          p50Ms: median.p50,
          p99Ms: median.p99,
          runs: all.map((r) => r.rps),
          failures: all.reduce((n, r) => n + r.failures, 0),
          ratioToBaseline: pairedRatio(
            all.map((r) => r.rps),
            baseline,
          ),
        });
      }
    }
    return results;
  } finally {
    killAll();
    process.off('exit', killAll);
  }
}

/** The results as a plain-text table. */
export function formatHttpBench(results: readonly HttpBenchResult[]): string {
  const rows = results.map((r) => [
    r.name,
    r.path,
    r.requestsPerSec.toLocaleString('en-US'),
    `${(r.ratioToBaseline * 100).toFixed(1)}%`,
    String(r.p50Ms),
    String(r.p99Ms),
    r.runs.join(' '),
    r.failures === 0 ? '' : `${r.failures} failed`,
  ]);
  const header = ['POST /orders', 'path', 'req/s (median)', 'vs bare', 'p50 ms', 'p99 ms', 'runs', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i <= 1 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** The server side of the benchmark: `--serve KIND`, in a child process. */
async function serve(kind: ServerKind, upstream: string | undefined): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'oncekey-bench-http-'));
  process.once('SIGTERM', () => {
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
  const { sqliteStore } = await import('../src/store/sqlite.js');
  if (kind === 'gateway') {
    const { createGateway } = await import('../src/gateway/gateway.js');
    const gateway = createGateway({
      upstream: upstream!,
      store: sqliteStore({ path: join(dir, 'gateway.db') }),
      port: 0,
      adminPort: false,
      processMetrics: false,
    });
    const { url } = await gateway.listen();
    console.log(`listening ${url}`);
    return;
  }
  const { Hono } = await import('hono');
  const { serve: listen } = await import('@hono/node-server');
  const app = new Hono();
  if (kind !== 'hono') {
    const { idempotency } = await import('../src/http/hono.js');
    const { memoryStore } = await import('../src/store/memory.js');
    // The memory store is sized for the miss path's fresh keys (it evicts the oldest completed).
    const store = kind === 'hono-memory' ? memoryStore({ maxRecords: 1_000_000 }) : sqliteStore({ path: join(dir, 'hono.db') });
    app.use('/orders', idempotency({ store }));
  }
  let orders = 0;
  app.post('/orders', async (c) => {
    const input = await c.req.json<{ item: string; quantity: number }>();
    return c.json({ id: `ord_${++orders}`, item: input.item, quantity: input.quantity, state: 'created', created: 1_764_000_000 }, 201);
  });
  listen({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => console.log(`listening http://127.0.0.1:${info.port}`));
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const kind = flag('--serve');
  if (kind !== undefined) {
    await serve(kind as ServerKind, flag('--upstream'));
  } else {
    const durationMs = flag('--duration-ms');
    const rounds = flag('--rounds');
    const connections = flag('--connections');
    const results = await benchHttp({
      ...(durationMs ? { durationMs: Number(durationMs) } : {}),
      ...(rounds ? { rounds: Number(rounds) } : {}),
      ...(connections ? { connections: Number(connections) } : {}),
    });
    console.log(process.argv.includes('--json') ? JSON.stringify(results, null, 2) : formatHttpBench(results));
  }
}
