/**
 * `oncekey/resilience`: policies that work on any async function: retry (with backoff, jitter,
 * Retry-After and shared budgets), circuit breaker, timeout, bulkhead, fallback, and `wrap` to
 * compose them under one deadline. Time and randomness are injectable everywhere. Breaker state can
 * be shared by a fleet through Redis or PostgreSQL (`redisBreakerState`, `postgresBreakerState`;
 * no driver is imported: you pass your client).
 */
export * from './policy.js';
export * from './events.js';
export * from '../core/time.js';
export * from '../core/fake-clock.js';
export * from '../core/random.js';
export * from './backoff/index.js';
export * from './retry-after.js';
export * from './retryable.js';
export * from './budget/index.js';
export * from './retry.js';
export * from './breaker/index.js';
export * from './shared/index.js';
export * from './timeout.js';
export * from './bulkhead.js';
export * from './fallback.js';
export * from './wrap.js';
export * from './errors/index.js';
