/** In-process load at a fixed concurrency, for the function-API rows. */

export interface LoopResult {
  /** Operations completed. */
  readonly ops: number;
  /** Wall time of the run in milliseconds. */
  readonly ms: number;
  /** Operations per second. */
  readonly opsPerSec: number;
}

/**
 * `concurrency` lanes, each awaiting one `op(n)` after another (n counts up across lanes) until
 * `durationMs` has passed. The first error stops the run and is thrown.
 */
export async function inFlight(
  concurrency: number,
  durationMs: number,
  op: (n: number) => Promise<unknown>,
): Promise<LoopResult> {
  const start = performance.now();
  const deadline = start + durationMs;
  let next = 0;
  let done = 0;
  const lane = async () => {
    while (performance.now() < deadline) {
      await op(next++);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const ms = performance.now() - start;
  return { ops: done, ms, opsPerSec: (done * 1000) / ms };
}

/** Runs `op(0)` … `op(count-1)` with at most `concurrency` in flight (prefilling keys). */
export async function forEachLimited(count: number, concurrency: number, op: (n: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}
