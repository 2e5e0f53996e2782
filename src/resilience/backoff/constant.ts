import { nonNegative } from '../options.js';
import type { Backoff } from './backoff.js';

/** The same delay before every retry. Infinite. */
export function constantBackoff(delayMs: number): Backoff {
  nonNegative('constantBackoff.delayMs', delayMs);
  return function* constant() {
    for (;;) yield delayMs;
  };
}
