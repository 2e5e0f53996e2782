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
  /** Seconds. */
  duration: number;
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
    idReplacement?: boolean;
    requests: (RawRequest & { setupRequest?: (req: RawRequest) => RawRequest })[];
  },
  done: (error: Error | null, result: AutocannonResult) => void,
) => unknown;

const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const spec = JSON.parse(process.argv[2] ?? '{}') as LoadSpec;

/**
 * The Idempotency-Key of each request made by a per-request callback, by the spec's key pattern
 * (`none` has the callback too, so that its row pays the same request rebuild as `fresh`).
 * Undefined for the patterns autocannon handles alone (`fresh-id`, `one`).
 */
function keySource(prefix: string): (() => string | undefined) | undefined {
  const keys = spec.keys;
  let n = 0;
  switch (keys.mode) {
    case 'none':
      return () => undefined;
    case 'fresh':
      return () => `${prefix}-${n++}`;
    case 'cycle':
      return () => `${keys.prefix}-${n++ % keys.count}`;
    default:
      return undefined;
  }
}

/** The Idempotency-Key header of every request, for the patterns without a callback. */
function staticKey(): Record<string, string> {
  const keys = spec.keys;
  if (keys.mode === 'fresh-id') return { 'idempotency-key': `${keys.prefix}-[<id>]` };
  if (keys.mode === 'one') return { 'idempotency-key': keys.key };
  return {};
}

function run(durationSec: number, prefix: string): Promise<AutocannonResult> {
  const nextKey = keySource(prefix);
  const baseHeaders = { 'content-type': 'application/json', ...spec.headers, ...staticKey() };
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
            ...(nextKey === undefined
              ? {}
              : {
                  setupRequest: (req: RawRequest) => {
                    const key = nextKey();
                    return key === undefined ? req : { ...req, headers: { ...baseHeaders, 'idempotency-key': key } };
                  },
                }),
          },
        ],
        headers: baseHeaders,
        // autocannon puts a fresh id in place of [<id>] in every request it sends.
        ...(spec.keys.mode === 'fresh-id' ? { idReplacement: true } : {}),
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
  seconds: r.duration,
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
