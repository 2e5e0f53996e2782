/**
 * The load generator's own process: runs autocannon against one URL with the request and key
 * pattern it is given (argv[2], JSON {@link LoadSpec}), warm-up first, and prints the measured
 * run's figures as one JSON line ({@link LoadResult}). Started by `load.ts`; never run by hand.
 */
import { createRequire } from 'node:module';
import type { LoadResult, LoadSpec } from './load.js';

/** The part of autocannon's API used here (it ships no type declarations). */
interface RawRequest {
  method: string;
  path: string;
  body?: string;
  headers?: Record<string, string>;
}
interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodeStats?: Record<string, { count: number }>;
}
type Autocannon = (
  options: {
    url: string;
    connections: number;
    duration: number;
    headers: Record<string, string>;
    requests: (RawRequest & { setupRequest: (req: RawRequest) => RawRequest })[];
  },
  done: (error: Error | null, result: AutocannonResult) => void,
) => unknown;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;

/** The Idempotency-Key of each request, by the spec's key pattern. */
function keySource(prefix: string): () => string | undefined {
  const keys = spec.keys;
  if (keys.mode === 'none') return () => undefined;
  let n = 0;
  if (keys.mode === 'fresh') return () => `${prefix}-${n++}`;
  const count = keys.count;
  return () => `${keys.prefix}-${n++ % count}`;
}

function run(durationSec: number, prefix: string): Promise<AutocannonResult> {
  const nextKey = keySource(prefix);
  const baseHeaders = { 'content-type': 'application/json', ...spec.headers };
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: durationSec,
        requests: [
          {
            method: spec.method,
            path: spec.path,
            ...(spec.body === undefined ? {} : { body: spec.body }),
            setupRequest: (req) => {
              const key = nextKey();
              return key === undefined ? req : { ...req, headers: { ...baseHeaders, 'idempotency-key': key } };
            },
          },
        ],
        headers: baseHeaders,
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
}

const prefix = spec.keys.mode === 'fresh' ? spec.keys.prefix : '';
if (spec.warmupSec > 0) await run(spec.warmupSec, `${prefix}-warm`);
const r = await run(spec.durationSec, `${prefix}-run`);
const statuses: Record<string, number> = {};
for (const [code, stat] of Object.entries(r.statusCodeStats ?? {})) statuses[code] = stat.count;
const result: LoadResult = {
  rps: r.requests.average,
  p50: r.latency.p50,
  p99: r.latency.p99,
  meanMs: r.latency.average,
  total: r.requests.total,
  non2xx: r.non2xx,
  errors: r.errors,
  timeouts: r.timeouts,
  statuses,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
