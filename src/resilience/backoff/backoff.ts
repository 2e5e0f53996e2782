/**
 * A schedule of delays in milliseconds. Calling it starts a fresh, independent sequence; the
 * sequence may be infinite or end (then the retry stops). Backoffs are pure: no timers, no clock,
 * and randomness only through `random` (values in [0, 1)), which the policy passes in.
 */
export type Backoff = (random: () => number) => Iterator<number>;

/** The first `count` delays of a backoff, for tests, docs and simulations. */
export function takeDelays(backoff: Backoff, count: number, random: () => number = Math.random): number[] {
  const out: number[] = [];
  const iterator = backoff(random);
  while (out.length < count) {
    const next = iterator.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}
