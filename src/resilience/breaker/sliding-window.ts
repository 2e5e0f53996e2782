import { InvalidOptionError } from '../../core/errors/invalid-option.js';
import { assertKnownOptions, fraction, optional, positiveInt } from '../options.js';
import type { BreakerStrategy } from './strategy.js';

export interface SlidingWindowBreakerOptions {
  /** Failures / calls in the window at or above which the circuit opens. Default 0.5. */
  readonly failureRatio?: number;
  /** How far back outcomes count. Default 10 000 ms (opossum's rolling window). */
  readonly windowMs?: number;
  /** Buckets the window is kept in; a bucket drops off whole when it leaves the window. Default 10. */
  readonly buckets?: number;
  /**
   * Calls the window must hold before the ratio is judged, so one failure out of one call does
   * not open the circuit (opossum's `volumeThreshold` defaults to 0 and does exactly that).
   * Default 10.
   */
  readonly minimumVolume?: number;
}

/** `[bucketStart, successes, failures]` triples, oldest first. */
export interface SlidingWindow {
  readonly buckets: ReadonlyArray<readonly [number, number, number]>;
}

const KNOWN = ['failureRatio', 'windowMs', 'buckets', 'minimumVolume'] as const;

/** Opens when, over the last `windowMs`, at least `minimumVolume` calls ran and `failureRatio` of them failed. */
export function slidingWindowBreaker(options: SlidingWindowBreakerOptions = {}): BreakerStrategy<SlidingWindow> {
  assertKnownOptions('slidingWindowBreaker', options, KNOWN);
  const ratio = optional(options.failureRatio, 0.5, (v) => fraction('slidingWindowBreaker.failureRatio', v));
  const windowMs = optional(options.windowMs, 10_000, (v) => positiveInt('slidingWindowBreaker.windowMs', v));
  const buckets = optional(options.buckets, 10, (v) => positiveInt('slidingWindowBreaker.buckets', v));
  const minimumVolume = optional(options.minimumVolume, 10, (v) => positiveInt('slidingWindowBreaker.minimumVolume', v));
  if (windowMs % buckets !== 0) {
    throw new InvalidOptionError('slidingWindowBreaker.buckets', `windowMs (${windowMs}) must divide into ${buckets} equal buckets`);
  }
  const bucketMs = windowMs / buckets;

  return {
    name: `slidingWindow`,
    initial: () => ({ buckets: [] }),
    record(window, success, now) {
      const start = now - (now % bucketMs);
      // Keep buckets that still overlap the last windowMs; older ones are forgotten whole.
      const kept = window.buckets.filter(([bucketStart]) => bucketStart > now - windowMs);
      const last = kept[kept.length - 1];
      const current: [number, number, number] = last !== undefined && last[0] === start ? [last[0], last[1], last[2]] : [start, 0, 0];
      if (success) current[1]++;
      else current[2]++;
      const next = last !== undefined && last[0] === start ? [...kept.slice(0, -1), current] : [...kept, current];
      if (success) return { window: { buckets: next }, open: false };
      let calls = 0;
      let failures = 0;
      for (const [, s, f] of next) {
        calls += s + f;
        failures += f;
      }
      return { window: { buckets: next }, open: calls >= minimumVolume && failures / calls >= ratio };
    },
    isWindow: (w): w is SlidingWindow =>
      typeof w === 'object' &&
      w !== null &&
      Array.isArray((w as SlidingWindow).buckets) &&
      (w as SlidingWindow).buckets.every((b) => Array.isArray(b) && b.length === 3 && b.every(Number.isFinite)),
  };
}
