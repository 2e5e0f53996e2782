import { assertKnownOptions, fraction, positive } from '../options.js';
import type { RetryBudget } from './budget.js';

export interface TokenBucketBudgetOptions {
  /** Bucket size, also its initial content. gRPC allows (0, 1000]. Default 10. */
  readonly maxTokens?: number;
  /** Tokens a success adds back. gRPC allows (0, 1]. Default 0.1. */
  readonly tokenRatio?: number;
}

const KNOWN = ['maxTokens', 'tokenRatio'] as const;
// gRPC keeps token counts to three decimals; integers in thousandths avoid float drift.
const SCALE = 1000;

/**
 * gRPC retry throttling (proposal A6): the bucket starts full; every failed attempt takes one
 * token, every success adds `tokenRatio`; retries are allowed only while the bucket holds more
 * than half of `maxTokens`. With the defaults, about one failure in ten may be retried once the
 * dependency is mostly failing.
 */
export class TokenBucketBudget implements RetryBudget {
  readonly maxTokens: number;
  readonly tokenRatio: number;
  #milliTokens: number;

  constructor(options: TokenBucketBudgetOptions = {}) {
    assertKnownOptions('tokenBucketBudget', options, KNOWN);
    this.maxTokens = options.maxTokens === undefined ? 10 : positive('tokenBucketBudget.maxTokens', options.maxTokens);
    this.tokenRatio = options.tokenRatio === undefined ? 0.1 : fraction('tokenBucketBudget.tokenRatio', options.tokenRatio);
    this.#milliTokens = Math.round(this.maxTokens * SCALE);
  }

  /** Current content of the bucket. */
  get tokens(): number {
    return this.#milliTokens / SCALE;
  }

  recordCall(): void {}

  recordOutcome(success: boolean): void {
    const max = Math.round(this.maxTokens * SCALE);
    this.#milliTokens = success
      ? Math.min(max, this.#milliTokens + Math.round(this.tokenRatio * SCALE))
      : Math.max(0, this.#milliTokens - SCALE);
  }

  tryRetry(): boolean {
    // The failure that led here already paid its token; a retry itself costs nothing more.
    return this.#milliTokens * 2 > Math.round(this.maxTokens * SCALE);
  }
}

/** A gRPC-style token bucket budget; see {@link TokenBucketBudget}. */
export const tokenBucketBudget = (options?: TokenBucketBudgetOptions): TokenBucketBudget => new TokenBucketBudget(options);
