import { assertKnownOptions, optional, positiveInt } from '../options.js';
import type { BreakerStrategy } from './strategy.js';

export interface ConsecutiveBreakerOptions {
  /** Failures in a row that open the circuit. Default 5. */
  readonly threshold?: number;
}

export interface ConsecutiveWindow {
  readonly failures: number;
}

/** Opens after `threshold` failures in a row; any success starts the count again. */
export function consecutiveBreaker(options: ConsecutiveBreakerOptions = {}): BreakerStrategy<ConsecutiveWindow> {
  assertKnownOptions('consecutiveBreaker', options, ['threshold']);
  const threshold = optional(options.threshold, 5, (v) => positiveInt('consecutiveBreaker.threshold', v));
  return {
    name: `consecutive`,
    initial: () => ({ failures: 0 }),
    record(window, success) {
      if (success) return { window: { failures: 0 }, open: false };
      const failures = window.failures + 1;
      return { window: { failures }, open: failures >= threshold };
    },
    isWindow: (w): w is ConsecutiveWindow => typeof w === 'object' && w !== null && Number.isSafeInteger((w as ConsecutiveWindow).failures),
  };
}
