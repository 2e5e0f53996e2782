/**
 * `oncekey/http`: the framework-free idempotency middleware on web-standard Request/Response,
 * for runtimes and frameworks without a ready adapter (Bun, Deno, workers, a custom proxy).
 *
 * ```ts
 * const handle = idempotency({ store });
 * const response = await handle(request, (request) => app.fetch(request));
 * ```
 */
export { idempotency } from './middleware.js';
export type { IdempotencyHandler, Next } from './middleware.js';
export { storeStatusDefault } from './options.js';
export type { ErrorContext, IdempotencyOptions, IdempotencyOutcome, OutcomeEvent } from './options.js';
export { MAX_IDEMPOTENCY_KEY_LENGTH, parseIdempotencyKey } from './idempotency-key.js';
export type { ParseKeyOptions, ParsedKey } from './idempotency-key.js';
export { PROBLEM_TYPE_BASE, problemDocument, problemResponse, problemStatus } from './problem.js';
export type { ProblemDocument, ProblemKind, ProblemResponseInit } from './problem.js';
export { authorizationScope, headerScope } from './scope.js';
export type { ScopeFunction } from './scope.js';
export type { FingerprintFunction, FingerprintOption, FingerprintParts } from './request-fingerprint.js';
export { DEFAULT_REPLAY_HEADERS } from './stored-response.js';
