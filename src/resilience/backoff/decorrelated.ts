import { assertKnownOptions, nonNegative, optional } from '../options.js';
import type { Backoff } from './backoff.js';

export interface DecorrelatedBackoffOptions {
  /** The smallest delay, and the first delay's lower bound. Default 500 ms. */
  readonly initialDelayMs?: number;
  /** Cap on every delay. Default 8000 ms. */
  readonly maxDelayMs?: number;
}

const KNOWN = ['initialDelayMs', 'maxDelayMs'] as const;

/**
 * Decorrelated jitter (AWS): each delay is uniform between the base and three times the previous
 * delay, capped: `d = min(cap, base + random * (3 * prev - base))`. Infinite.
 */
export function decorrelatedBackoff(options: DecorrelatedBackoffOptions = {}): Backoff {
  assertKnownOptions('decorrelatedBackoff', options, KNOWN);
  const base = optional(options.initialDelayMs, 500, (v) => nonNegative('decorrelatedBackoff.initialDelayMs', v));
  const cap = optional(options.maxDelayMs, 8000, (v) => nonNegative('decorrelatedBackoff.maxDelayMs', v));

  return function* decorrelated(random) {
    let previous = base;
    for (;;) {
      previous = Math.min(cap, base + random() * (previous * 3 - base));
      yield previous;
    }
  };
}
