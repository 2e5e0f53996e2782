import {
  circuitBreaker,
  consecutiveBreaker,
  exponentialBackoff,
  fallback,
  retry,
  systemClock,
  timeout,
  tokenBucketBudget,
  wrap,
} from 'oncekey/resilience';

/** A non-2xx answer; its headers carry Retry-After for the retry policy to honour. */
export class UpstreamError extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
  ) {
    super(`upstream answered ${status}`);
  }
}

const transient = (error: unknown) => !(error instanceof UpstreamError) || [429, 502, 503, 504].includes(error.status);

/** Reads prices from a flaky upstream: at most 2 s per call, and no hammering while it is down. */
export function createPriceReader({ fetch = globalThis.fetch, clock = systemClock } = {}) {
  let lastKnown: number | undefined;
  const policy = wrap(
    // Last resort: the last price we saw, marked stale.
    fallback((error) => {
      if (lastKnown === undefined) throw error;
      return { price: lastKnown, stale: true };
    }),
    // One deadline for the whole call, retries and waits included.
    timeout(2_000, { clock }),
    // Retry transient failures with full-jitter backoff, honouring Retry-After, within a
    // budget: once most calls fail, retries stop multiplying the load.
    retry({
      maxAttempts: 4,
      backoff: exponentialBackoff({ initialDelayMs: 100, maxDelayMs: 1_000 }),
      isRetryable: transient,
      budget: tokenBucketBudget({ maxTokens: 10, tokenRatio: 0.1 }),
      clock,
    }),
    // After 5 transient failures in a row, fail fast for 10 s, then let one trial call through.
    circuitBreaker({
      breaker: consecutiveBreaker({ threshold: 5 }),
      halfOpenAfterMs: 10_000,
      isFailure: transient,
      clock,
    }),
    // Each attempt gets 500 ms.
    timeout(500, { clock }),
  );

  return (sku: string) =>
    policy.execute(async ({ signal }) => {
      const response = await fetch(`https://prices.example/${sku}`, { signal });
      if (!response.ok) throw new UpstreamError(response.status, response.headers);
      const { price } = (await response.json()) as { price: number };
      lastKnown = price;
      return { price, stale: false };
    });
}
