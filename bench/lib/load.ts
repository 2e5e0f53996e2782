/**
 * HTTP load from a process of its own: autocannon runs in a child (`load-worker.ts`) so the load
 * generator does not share an event loop with the server it measures.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type KeyPattern =
  /** No Idempotency-Key header. */
  | { readonly mode: 'none' }
  /** A new key for every request (`<prefix>-run-<n>`): the miss path. */
  | { readonly mode: 'fresh'; readonly prefix: string }
  /** Keys `<prefix>-0` … `<prefix>-<count-1>` in turn, completed beforehand: the hit path. */
  | { readonly mode: 'cycle'; readonly prefix: string; readonly count: number }
  /**
   * A new key for every request made by autocannon itself (`<prefix>-<hyperid>`, its
   * `idReplacement`), with no per-request callback: the miss path.
   */
  | { readonly mode: 'fresh-id'; readonly prefix: string }
  /**
   * The same key on every request, completed beforehand: the hit path. The header is static, so
   * autocannon builds the request once (no per-request callback, unlike `cycle`).
   */
  | { readonly mode: 'one'; readonly key: string };

export interface LoadSpec {
  readonly url: string;
  readonly method: string;
  readonly path: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly keys: KeyPattern;
  readonly connections: number;
  readonly durationSec: number;
  readonly warmupSec: number;
}

export interface LoadResult {
  /** Mean requests per second over the measured run (autocannon's per-second samples). */
  readonly rps: number;
  /** Length of the measured run in seconds, as autocannon timed it (`total / seconds`: its rate over the whole run). */
  readonly seconds: number;
  readonly p50: number;
  readonly p99: number;
  readonly meanMs: number;
  readonly total: number;
  readonly non2xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /** Responses by status code. */
  readonly statuses: Record<string, number>;
}

const WORKER = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

/** Runs the load in a child process and returns its figures. */
export function load(spec: LoadSpec): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) {
        reject(new Error(`load generator exited with ${code}: ${err.trim() || out.trim()}`));
        return;
      }
      resolve(JSON.parse(line) as LoadResult);
    });
  });
}
