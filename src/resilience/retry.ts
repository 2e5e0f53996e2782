import type { Backoff } from './backoff/backoff.js';
import { exponentialBackoff } from './backoff/exponential.js';
import type { RetryBudget } from './budget/budget.js';
import { sleep, systemClock, type TimerClock } from '../core/time.js';
import { Emitter, type EventSource, type GiveUpReason, type PolicyEvents } from './events.js';
import { assertKnownOptions, clockOption, func, nonNegative, optional, positiveIntOrInfinity, withMethods } from './options.js';
import type { ExecuteContext, ExecuteOptions, Policy, Task } from './policy.js';
import { isDeadlineExceededError } from './errors/deadline-exceeded.js';
import { readRetryAfter } from './retry-after.js';
import { isRetryableByDefault } from './retryable.js';
import { openScope, runTask } from './scope.js';

export interface RetryOptions {
  /** Attempts in all, the first included. Default 3 (two retries, like the Stainless SDKs). */
  readonly maxAttempts?: number;
  /** Delays between attempts. Default `exponentialBackoff()` (full jitter, 500 ms → 8 s). */
  readonly backoff?: Backoff;
  /** Cap on each backoff delay (server-directed delays have `maxRetryAfterMs`). Default none. */
  readonly maxDelayMs?: number;
  /** Cap on the whole execution, retries and waits included; sets the deadline. Default none. */
  readonly maxDurationMs?: number;
  /** Which errors may be retried. Default {@link isRetryableByDefault}. */
  readonly isRetryable?: (error: unknown, context: ExecuteContext) => boolean;
  /** Which results are failures to retry (say, a `Response` with status 503). Default none. */
  readonly isRetryableResult?: (result: unknown, context: ExecuteContext) => boolean;
  /**
   * Reads a server-directed delay (ms) from a retryable error or result. Default
   * {@link readRetryAfter}: `retryAfterMs`, `retry-after-ms` and `Retry-After` headers.
   */
  readonly retryAfter?: (outcome: unknown, now: number) => number | undefined;
  /** Longest server-directed delay honoured; a longer one ends the retries. Default 60 000 ms. */
  readonly maxRetryAfterMs?: number;
  /** A budget shared with other policies; when it refuses, the retries end. */
  readonly budget?: RetryBudget;
  readonly clock?: TimerClock;
  /** Random source for the backoff's jitter, values in [0, 1). Default `Math.random`. */
  readonly random?: () => number;
}

const KNOWN = [
  'maxAttempts',
  'backoff',
  'maxDelayMs',
  'maxDurationMs',
  'isRetryable',
  'isRetryableResult',
  'retryAfter',
  'maxRetryAfterMs',
  'budget',
  'clock',
  'random',
] as const;

export type RetryEvents = Pick<PolicyEvents, 'retry' | 'giveUp' | 'success' | 'failure'>;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Runs a task again when it fails in a retryable way. When it stops retrying (attempts, deadline,
 * budget, a too-long Retry-After) the caller gets the last error thrown, or the last result when
 * that result was the retryable failure; the `giveUp` event says why. No attempt starts after the
 * signal aborted or the deadline passed, and a wait that could only end past the deadline is not
 * started at all.
 */
export class RetryPolicy implements Policy, EventSource<RetryEvents> {
  readonly #events = new Emitter<RetryEvents>();
  readonly #maxAttempts: number;
  readonly #backoff: Backoff;
  readonly #maxDelayMs: number;
  readonly #maxDurationMs: number | undefined;
  readonly #isRetryable: NonNullable<RetryOptions['isRetryable']>;
  readonly #isRetryableResult: RetryOptions['isRetryableResult'];
  readonly #retryAfter: NonNullable<RetryOptions['retryAfter']>;
  readonly #maxRetryAfterMs: number;
  readonly #budget: RetryBudget | undefined;
  readonly #clock: TimerClock;
  readonly #random: () => number;

  constructor(options: RetryOptions = {}) {
    assertKnownOptions('retry', options, KNOWN);
    this.#maxAttempts = optional(options.maxAttempts, 3, (v) => positiveIntOrInfinity('retry.maxAttempts', v));
    this.#backoff = optional(options.backoff, exponentialBackoff(), (v) => func('retry.backoff', v));
    this.#maxDelayMs = optional(options.maxDelayMs, Infinity, (v) => nonNegative('retry.maxDelayMs', v));
    this.#maxDurationMs = optional(options.maxDurationMs, undefined, (v) => nonNegative('retry.maxDurationMs', v));
    this.#isRetryable = optional(options.isRetryable, isRetryableByDefault, (v) => func('retry.isRetryable', v));
    this.#isRetryableResult = optional(options.isRetryableResult, undefined, (v) =>
      func<NonNullable<RetryOptions['isRetryableResult']>>('retry.isRetryableResult', v),
    );
    this.#retryAfter = optional(options.retryAfter, readRetryAfter, (v) => func('retry.retryAfter', v));
    this.#maxRetryAfterMs = optional(options.maxRetryAfterMs, 60_000, (v) => nonNegative('retry.maxRetryAfterMs', v));
    this.#budget = optional(options.budget, undefined, (v) =>
      withMethods<RetryBudget>('retry.budget', v, ['recordCall', 'recordOutcome', 'tryRetry']),
    );
    this.#clock = optional(options.clock, systemClock, (v) => clockOption<TimerClock>('retry.clock', v));
    this.#random = optional(options.random, Math.random, (v) => func('retry.random', v));
  }

  on<K extends keyof RetryEvents>(name: K, listener: (event: RetryEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  async execute<T>(task: Task<T>, options?: ExecuteOptions): Promise<T> {
    const clock = this.#clock;
    const start = clock.now();
    const own = this.#maxDurationMs === undefined ? undefined : start + this.#maxDurationMs;
    const scope = openScope(options, clock, own);
    const { signal, deadline } = scope.context;
    const delays = this.#backoff(this.#random);
    this.#budget?.recordCall();
    try {
      for (let attempt = 1; ; attempt++) {
        if (signal.aborted) throw signal.reason;
        const context: ExecuteContext = { signal, deadline, attempt };
        const began = clock.now();
        const outcome: Outcome = await runTask(task, context).then(
          (value) => ({ ok: true as const, value }),
          (error: unknown) => ({ ok: false as const, error }),
        );
        const durationMs = clock.now() - began;

        if (outcome.ok && !this.#isRetryableResult?.(outcome.value, context)) {
          this.#budget?.recordOutcome(true);
          this.#events.emit('success', { durationMs, attempt });
          return outcome.value as T;
        }
        const detail = outcome.ok ? { result: outcome.value } : { error: outcome.error };
        this.#events.emit('failure', { durationMs, attempt, ...detail });
        if (!outcome.ok && !this.#isRetryable(outcome.error, context)) throw outcome.error;

        const giveUp = (reason: GiveUpReason, retryAfterMs?: number): T => {
          const hint = retryAfterMs === undefined ? {} : { retryAfterMs };
          this.#events.emit('giveUp', { attempt, reason, ...detail, ...hint });
          if (outcome.ok) return outcome.value as T;
          throw outcome.error;
        };
        // The caller stopped listening (or the deadline passed) during the attempt; a failure
        // caused by that says nothing about the dependency, so it does not touch the budget.
        if (signal.aborted) return giveUp(isDeadlineExceededError(signal.reason) ? 'deadline' : 'aborted');
        this.#budget?.recordOutcome(false);

        if (attempt >= this.#maxAttempts) return giveUp('maxAttempts');
        const now = clock.now();
        const hint = this.#retryAfter(outcome.ok ? outcome.value : outcome.error, now);
        let delayMs: number;
        if (hint !== undefined) {
          if (hint > this.#maxRetryAfterMs) return giveUp('retryAfterTooLong', hint);
          delayMs = hint;
        } else {
          const next = delays.next();
          if (next.done) return giveUp('backoffExhausted');
          // A custom backoff that yields garbage gets no wait rather than a NaN timer.
          delayMs = next.value > 0 ? Math.min(next.value, this.#maxDelayMs) : 0;
        }
        if (deadline !== undefined && now + delayMs >= deadline) return giveUp('deadline', hint);
        if (this.#budget !== undefined && !this.#budget.tryRetry()) return giveUp('budget', hint);

        this.#events.emit('retry', { attempt, delayMs, delaySource: hint === undefined ? 'backoff' : 'retryAfter', ...detail });
        try {
          await sleep(delayMs, signal, clock);
        } catch (reason) {
          const why = isDeadlineExceededError(reason) ? 'deadline' : 'aborted';
          this.#events.emit('giveUp', { attempt, reason: why, ...detail });
          throw reason;
        }
        // Timers may fire late; the deadline, not the timer, decides whether an attempt may start.
        if (deadline !== undefined && clock.now() >= deadline) return giveUp('deadline');
      }
    } finally {
      scope.close();
    }
  }
}

/** A retry policy; see {@link RetryPolicy}. */
export const retry = (options?: RetryOptions): RetryPolicy => new RetryPolicy(options);
