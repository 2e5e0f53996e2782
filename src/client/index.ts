/**
 * `oncekey/client`: a `fetch` that retries safely. POST and PATCH calls get one Idempotency-Key
 * (a UUIDv7) that every retry of the call reuses; network errors, 408, 429, 502, 503, 504 and the
 * idempotency draft's 409 "still running" are retried, honouring Retry-After; other 4xx are not,
 * and a 422 "key reused for another request" throws `IdempotencyKeyReusedError`. Each origin has
 * a circuit breaker, and retries can share a budget.
 *
 * ```ts
 * const api = createClient({ baseUrl: 'https://api.example/v1' });
 * const response = await api('orders', { method: 'POST', body: JSON.stringify(order) });
 * ```
 */
export { createClient } from './client.js';
export type { ClientAttempt, ClientRequestInit, OncekeyClient } from './client.js';
export type { ClientBreakerOptions, ClientKeyOptions, ClientOptions, ClientRetryOptions } from './options.js';
export { RETRYABLE_STATUSES, isNetworkError } from './classify.js';
export { IdempotencyKeyReusedError, RequestBodyTooLargeError, isIdempotencyKeyReusedError, isRequestBodyTooLargeError } from './errors.js';
export type { Problem } from './errors.js';
export { uuidv7 } from './uuid7.js';
