import { systemClock, type TimerClock } from '../../core/time.js';
import { assertKnownOptions, fraction, nonNegative, optional, positiveInt } from '../options.js';
import type { RetryBudget } from './budget.js';

export interface PercentageBudgetOptions {
  /** Retries may be at most this fraction of calls over the window. Default 0.2 (Finagle). */
  readonly maxRetryRatio?: number;
  /** Retries always allowed per second, so low traffic can still retry. Default 10 (Finagle). */
  readonly minRetriesPerSecond?: number;
  /** How far back calls and retries are remembered. Default 10 000 ms (Finagle's ttl). */
  readonly windowMs?: number;
  /** How many slices the window is kept in; old slices drop off whole. Default 10. */
  readonly slices?: number;
  readonly clock?: TimerClock;
}

const KNOWN = ['maxRetryRatio', 'minRetriesPerSecond', 'windowMs', 'slices', 'clock'] as const;

interface Slice {
  start: number;
  calls: number;
  retries: number;
}

/**
 * Finagle's `RetryBudget` (and Envoy's retry budget): over a sliding window, retries may be at
 * most `maxRetryRatio` of calls, plus a floor of `minRetriesPerSecond` so a quiet service can
 * still retry. Outcomes do not matter here, only volume.
 */
export class PercentageBudget implements RetryBudget {
  readonly maxRetryRatio: number;
  readonly minRetriesPerSecond: number;
  readonly windowMs: number;
  readonly #sliceMs: number;
  readonly #clock: TimerClock;
  #slices: Slice[] = [];

  constructor(options: PercentageBudgetOptions = {}) {
    assertKnownOptions('percentageBudget', options, KNOWN);
    this.maxRetryRatio = optional(options.maxRetryRatio, 0.2, (v) => fraction('percentageBudget.maxRetryRatio', v));
    this.minRetriesPerSecond = optional(options.minRetriesPerSecond, 10, (v) => nonNegative('percentageBudget.minRetriesPerSecond', v));
    this.windowMs = optional(options.windowMs, 10_000, (v) => positiveInt('percentageBudget.windowMs', v));
    const slices = optional(options.slices, 10, (v) => positiveInt('percentageBudget.slices', v));
    this.#sliceMs = this.windowMs / slices;
    this.#clock = options.clock ?? systemClock;
  }

  /** Calls and retries currently inside the window. */
  get usage(): { calls: number; retries: number } {
    let calls = 0;
    let retries = 0;
    for (const slice of this.#live()) {
      calls += slice.calls;
      retries += slice.retries;
    }
    return { calls, retries };
  }

  recordCall(): void {
    this.#current().calls++;
  }

  recordOutcome(): void {}

  tryRetry(): boolean {
    const { calls, retries } = this.usage;
    const allowed = this.maxRetryRatio * calls + this.minRetriesPerSecond * (this.windowMs / 1000);
    if (retries + 1 > allowed) return false;
    this.#current().retries++;
    return true;
  }

  #live(): Slice[] {
    const oldest = this.#clock.now() - this.windowMs;
    this.#slices = this.#slices.filter((slice) => slice.start > oldest);
    return this.#slices;
  }

  #current(): Slice {
    const start = Math.floor(this.#clock.now() / this.#sliceMs) * this.#sliceMs;
    const slices = this.#live();
    const last = slices[slices.length - 1];
    if (last !== undefined && last.start === start) return last;
    const slice = { start, calls: 0, retries: 0 };
    slices.push(slice);
    return slice;
  }
}

/** A Finagle-style percentage budget; see {@link PercentageBudget}. */
export const percentageBudget = (options?: PercentageBudgetOptions): PercentageBudget => new PercentageBudget(options);
