import { describe, expect, it } from 'vitest';
import { benchJitter, simulateContention } from '../bench/jitter.js';

describe('bench/jitter.ts (AWS "Exponential Backoff And Jitter" workload)', () => {
  it('reproduces the known result: full jitter needs far fewer calls than no jitter', () => {
    const results = benchJitter({ clients: 50, runs: 2 });
    const by = Object.fromEntries(results.map((r) => [r.strategy, r]));
    // Without jitter the colliding clients stay in lockstep: one winner per round.
    expect(by.none!.calls).toBe((50 * 51) / 2);
    expect(by.full!.calls).toBeLessThan(by.none!.calls / 3);
    for (const strategy of ['full', 'equal', 'decorrelated'] as const) {
      expect(by[strategy]!.calls).toBeLessThan(by.none!.calls / 2);
      expect(by[strategy]!.completionMs).toBeLessThan(by.none!.completionMs);
    }
  });

  it('is deterministic for a seed', () => {
    const options = { clients: 30, slotMs: 1, initialDelayMs: 5, maxDelayMs: 10_000, seed: 9 };
    expect(simulateContention('full', options)).toEqual(simulateContention('full', options));
  });
});
