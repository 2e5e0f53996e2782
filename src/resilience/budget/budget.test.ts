import { describe, expect, it } from 'vitest';
import { isInvalidOptionError } from '../../core/errors/invalid-option.js';
import { FakeClock } from '../../core/fake-clock.js';
import { PercentageBudget, percentageBudget } from './percentage.js';
import { tokenBucketBudget } from './token-bucket.js';

describe('tokenBucketBudget (gRPC retry throttling)', () => {
  it('allows retries only while more than half the tokens remain', () => {
    const budget = tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 });
    expect(budget.tryRetry()).toBe(true);
    for (let i = 0; i < 4; i++) budget.recordOutcome(false);
    expect(budget.tokens).toBe(6);
    expect(budget.tryRetry()).toBe(true);
    budget.recordOutcome(false);
    expect(budget.tokens).toBe(5);
    expect(budget.tryRetry()).toBe(false); // 5 is not more than 10 / 2
  });

  it('refills by tokenRatio per success without drifting, up to maxTokens', () => {
    const budget = tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 });
    for (let i = 0; i < 5; i++) budget.recordOutcome(false);
    expect(budget.tryRetry()).toBe(false);
    for (let i = 0; i < 9; i++) budget.recordOutcome(true);
    expect(budget.tokens).toBe(5.9);
    expect(budget.tryRetry()).toBe(true);
    for (let i = 0; i < 100; i++) budget.recordOutcome(true);
    expect(budget.tokens).toBe(10);
  });

  it('never goes below zero', () => {
    const budget = tokenBucketBudget({ maxTokens: 2 });
    for (let i = 0; i < 10; i++) budget.recordOutcome(false);
    expect(budget.tokens).toBe(0);
  });

  it('validates options', () => {
    expect(() => tokenBucketBudget({ tokenRatio: 2 })).toThrow(/tokenRatio/);
    expect(() => tokenBucketBudget({ maxToken: 3 } as never)).toThrow(/unknown option/);
  });
});

describe('percentageBudget (Finagle retry budget)', () => {
  it('allows the per-second minimum with no traffic, then a share of calls', () => {
    const clock = new FakeClock();
    const budget = percentageBudget({ maxRetryRatio: 0.2, minRetriesPerSecond: 1, windowMs: 10_000, clock });
    // Floor: 1/s over a 10 s window = 10 retries.
    let granted = 0;
    while (budget.tryRetry()) granted++;
    expect(granted).toBe(10);
    for (let i = 0; i < 50; i++) budget.recordCall();
    granted = 0;
    while (budget.tryRetry()) granted++;
    expect(granted).toBe(10); // 20 % of 50 calls
    expect(budget.usage).toEqual({ calls: 50, retries: 20 });
  });

  it('forgets calls and retries once they leave the window', async () => {
    const clock = new FakeClock();
    const budget = new PercentageBudget({ maxRetryRatio: 0.5, minRetriesPerSecond: 0, windowMs: 1000, slices: 10, clock });
    for (let i = 0; i < 10; i++) budget.recordCall();
    let granted = 0;
    while (budget.tryRetry()) granted++;
    expect(granted).toBe(5);
    await clock.advance(1000);
    expect(budget.usage).toEqual({ calls: 0, retries: 0 });
    expect(budget.tryRetry()).toBe(false);
    budget.recordCall();
    budget.recordCall();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
  });

  it('validates options', () => {
    let error: unknown;
    try {
      percentageBudget({ maxRetryRatio: 0 });
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionError(error)).toBe(true);
  });
});
