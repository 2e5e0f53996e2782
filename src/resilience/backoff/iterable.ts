import { InvalidOptionError } from '../../core/errors/invalid-option.js';
import type { Backoff } from './backoff.js';

/**
 * Exactly these delays, in order; when they run out the retry policy stops retrying (so
 * `[100, 1000]` means at most two retries). The iterable is read afresh for each execution.
 */
export function iterableBackoff(delays: Iterable<number>): Backoff {
  if (delays === null || typeof (delays as Partial<Iterable<number>>)?.[Symbol.iterator] !== 'function') {
    throw new InvalidOptionError('iterableBackoff.delays', 'expected an iterable of delays in ms');
  }
  return function* iterable() {
    for (const delay of delays) {
      if (typeof delay !== 'number' || !Number.isFinite(delay) || delay < 0) {
        throw new InvalidOptionError('iterableBackoff.delays', `expected finite delays >= 0, got ${String(delay)}`);
      }
      yield delay;
    }
  };
}
