import { assertKnownOptions, nonNegative, oneOf, optional, positive } from '../options.js';
import type { Backoff } from './backoff.js';

/**
 * How randomness spreads the delay under the exponential ceiling `c` (AWS Architecture Blog,
 * "Exponential Backoff And Jitter"): `full` is uniform in [0, c), `equal` is c/2 plus uniform in
 * [0, c/2), `none` is exactly c (clients that failed together retry together).
 */
export type Jitter = 'full' | 'equal' | 'none';

export interface ExponentialBackoffOptions {
  /** Ceiling of the first delay. Default 500 ms. */
  readonly initialDelayMs?: number;
  /** Growth of the ceiling per retry. Default 2. */
  readonly factor?: number;
  /** Cap on every delay. Default 8000 ms. */
  readonly maxDelayMs?: number;
  /** Default `full`. */
  readonly jitter?: Jitter;
}

const KNOWN = ['initialDelayMs', 'factor', 'maxDelayMs', 'jitter'] as const;

/** Exponentially growing delays, capped, with full jitter unless told otherwise. Infinite. */
export function exponentialBackoff(options: ExponentialBackoffOptions = {}): Backoff {
  assertKnownOptions('exponentialBackoff', options, KNOWN);
  const initial = optional(options.initialDelayMs, 500, (v) => nonNegative('exponentialBackoff.initialDelayMs', v));
  const factor = optional(options.factor, 2, (v) => positive('exponentialBackoff.factor', v));
  const cap = optional(options.maxDelayMs, 8000, (v) => nonNegative('exponentialBackoff.maxDelayMs', v));
  const jitter = optional(options.jitter, 'full', (v) => oneOf('exponentialBackoff.jitter', v, ['full', 'equal', 'none']));

  return function* exponential(random) {
    for (let n = 0; ; n++) {
      const ceiling = Math.min(cap, initial * factor ** n);
      if (jitter === 'none') yield ceiling;
      else if (jitter === 'equal') yield ceiling / 2 + (random() * ceiling) / 2;
      else yield random() * ceiling;
    }
  };
}
