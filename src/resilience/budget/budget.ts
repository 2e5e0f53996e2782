/**
 * A retry budget shared by many retry policies (one per dependency, say), so that when the
 * dependency fails the retries stop multiplying its load. Retry policies call it like this:
 * `recordCall()` once per logical call, `recordOutcome()` after every attempt whose outcome the
 * policy judged (success, or a retryable failure), and `tryRetry()` right before each retry.
 */
export interface RetryBudget {
  /** A logical call starts (its first attempt, not a retry). */
  recordCall(): void;
  /** An attempt ended: `true` for success, `false` for a retryable failure. */
  recordOutcome(success: boolean): void;
  /** May one retry be sent now? A `true` answer consumes the retry's share of the budget. */
  tryRetry(): boolean;
}
