/** In-process load at a fixed concurrency, for the function-API rows and the server-store benchmarks. */

export interface LoopResult {
  /** Operations completed. */
  readonly ops: number;
  /** Wall time of the run in milliseconds. */
  readonly ms: number;
  /** Operations per second. */
  readonly opsPerSec: number;
  /** CPU time (user + system) of this process over the run, in microseconds (a server's is not in it). */
  readonly cpuUs: number;
}

/**
 * `concurrency` lanes, each awaiting one `op(n, lane, i)` after another until `durationMs` has
 * passed: `n` counts up across lanes, `i` within the lane. Only the loop is timed. The first error
 * stops the run and is thrown.
 */
export async function inFlight(
  concurrency: number,
  durationMs: number,
  op: (n: number, lane: number, i: number) => Promise<unknown>,
): Promise<LoopResult> {
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  const deadline = start + durationMs;
  let next = 0;
  let done = 0;
  const lane = async (laneIndex: number) => {
    for (let i = 0; performance.now() < deadline; i++) {
      await op(next++, laneIndex, i);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, (_, laneIndex) => lane(laneIndex)));
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  return { ops: done, ms, opsPerSec: (done * 1000) / ms, cpuUs: cpu.user + cpu.system };
}

/** Runs `op(0)` … `op(count-1)` with at most `concurrency` in flight (prefilling keys). */
export async function forEachLimited(count: number, concurrency: number, op: (n: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
}
