import { describe, expect, it } from 'vitest';
import { isInvalidOptionError } from '../../core/errors/invalid-option.js';
import { seededRandom } from '../../core/random.js';
import { constantBackoff, decorrelatedBackoff, exponentialBackoff, iterableBackoff, takeDelays, type Backoff } from './index.js';

const fixed = (value: number) => () => value;

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('exponentialBackoff', () => {
  it('without jitter doubles from the initial delay up to the cap', () => {
    const b = exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 'none' });
    expect(takeDelays(b, 6)).toEqual([100, 200, 400, 800, 1000, 1000]);
  });

  it('uses full jitter by default: uniform below the exponential ceiling', () => {
    const b = exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1000 });
    expect(takeDelays(b, 5, fixed(0.5))).toEqual([50, 100, 200, 400, 500]);
    expect(takeDelays(b, 3, fixed(0))).toEqual([0, 0, 0]);
    const ceilings = [100, 200, 400, 800, 1000, 1000, 1000, 1000];
    const delays = takeDelays(b, 8, seededRandom(7));
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(ceilings[i]!);
    });
    expect(new Set(delays).size).toBe(8);
  });

  it('with equal jitter keeps at least half the ceiling', () => {
    const b = exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1000, jitter: 'equal' });
    expect(takeDelays(b, 4, fixed(0))).toEqual([50, 100, 200, 400]);
    expect(takeDelays(b, 4, fixed(0.5))).toEqual([75, 150, 300, 600]);
  });

  it('does not overflow past the cap after many attempts', () => {
    const b = exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 5000, jitter: 'none' });
    const delays = takeDelays(b, 2000);
    expect(delays.at(-1)).toBe(5000);
    expect(delays.every(Number.isFinite)).toBe(true);
  });

  it('starts a fresh sequence on every call', () => {
    const b = exponentialBackoff({ initialDelayMs: 10, jitter: 'none' });
    expect(takeDelays(b, 2)).toEqual([10, 20]);
    expect(takeDelays(b, 2)).toEqual([10, 20]);
  });

  it('rejects unknown and bad options', () => {
    expect(isInvalidOptionError(thrown(() => exponentialBackoff({ initalDelayMs: 1 } as never)))).toBe(true);
    expect(isInvalidOptionError(thrown(() => exponentialBackoff({ jitter: 'half' as never })))).toBe(true);
    expect(isInvalidOptionError(thrown(() => exponentialBackoff({ factor: 0 })))).toBe(true);
    expect(isInvalidOptionError(thrown(() => exponentialBackoff({ maxDelayMs: -1 })))).toBe(true);
  });
});

describe('decorrelatedBackoff', () => {
  it('stays between the base and three times the previous delay, capped', () => {
    const b = decorrelatedBackoff({ initialDelayMs: 100, maxDelayMs: 2000 });
    const delays = takeDelays(b, 50, seededRandom(3));
    let previous = 100;
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(100);
      expect(d).toBeLessThanOrEqual(Math.min(2000, previous * 3));
      previous = d;
    }
    // random = 1 (the top of the range) triples each time until the cap.
    expect(takeDelays(b, 5, fixed(1))).toEqual([300, 900, 2000, 2000, 2000]);
    expect(takeDelays(b, 3, fixed(0))).toEqual([100, 100, 100]);
  });
});

describe('constantBackoff and iterableBackoff', () => {
  it('constant repeats its delay', () => {
    expect(takeDelays(constantBackoff(250), 3)).toEqual([250, 250, 250]);
    expect(isInvalidOptionError(thrown(() => constantBackoff(-5)))).toBe(true);
  });

  it('iterable yields its delays in order and then ends, afresh each time', () => {
    const b: Backoff = iterableBackoff([5, 10, 20]);
    expect(takeDelays(b, 10)).toEqual([5, 10, 20]);
    expect(takeDelays(b, 10)).toEqual([5, 10, 20]);
    expect(isInvalidOptionError(thrown(() => iterableBackoff(42 as never)))).toBe(true);
    expect(isInvalidOptionError(thrown(() => takeDelays(iterableBackoff([1, Number.NaN]), 2)))).toBe(true);
  });
});
