/**
 * Failpoints for the test-only fixtures (never in the library): a fixture calls
 * `failpoint('after-effect')` at that point of its work, and when the process was started with
 * `ONCEKEY_FAILPOINT=after-effect` (a comma-separated list is allowed) and this is the
 * `ONCEKEY_FAILPOINT_HIT`-th time (default 1) a listed failpoint is reached, the process kills
 * itself with SIGKILL: no cleanup, no flush, exactly like a crash at that line.
 *
 * - `before-begin`: the request arrived; nothing was asked of the store yet.
 * - `after-effect`: the effect is in the ledger (or, in transactional mode, written inside the
 *   still-open transaction); the outcome is not committed.
 * - `after-commit`: the outcome is committed; the caller has not had its answer.
 */
export const FAILPOINTS = ['before-begin', 'after-effect', 'after-commit'] as const;
export type FailpointName = (typeof FAILPOINTS)[number];

const armed = new Set(
  (process.env.ONCEKEY_FAILPOINT ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
for (const name of armed) {
  if (!(FAILPOINTS as readonly string[]).includes(name))
    throw new Error(`ONCEKEY_FAILPOINT: unknown failpoint ${name}; known: ${FAILPOINTS.join(', ')}`);
}
const fireAt = Number(process.env.ONCEKEY_FAILPOINT_HIT ?? 1);
let hits = 0;

/** Crash here (SIGKILL) if this failpoint is armed and its turn has come. */
export function failpoint(name: FailpointName): void {
  if (!armed.has(name)) return;
  hits++;
  if (hits >= fireAt) {
    process.stderr.write(`failpoint ${name} fired (hit ${hits})\n`);
    process.kill(process.pid, 'SIGKILL');
    // SIGKILL is delivered before this line runs again; block in case delivery lags a moment.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10_000);
  }
}
