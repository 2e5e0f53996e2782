import { InvalidOptionError } from '../core/errors/invalid-option.js';
import type { BreakerStateStore } from '../resilience/breaker/state-store.js';
import type { CircuitBreakerOptions } from '../resilience/breaker/circuit-breaker.js';
import type { RetryBudget } from '../resilience/budget/budget.js';
import { systemClock, type TimerClock } from '../core/time.js';
import type { RetryOptions } from '../resilience/retry.js';
import { assertKnownOptions, clockOption, func, optional, positiveInt, withMethods } from '../resilience/options.js';

/**
 * The retry policy's settings that apply per call (see `RetryOptions`): attempts count per call,
 * and a `Retry-After` over `maxRetryAfterMs` ends the retries with the caller getting that response.
 */
export type ClientRetryOptions = Pick<RetryOptions, 'maxAttempts' | 'backoff' | 'maxDelayMs' | 'maxDurationMs' | 'maxRetryAfterMs'>;

export interface ClientBreakerOptions extends Omit<
  CircuitBreakerOptions,
  'store' | 'initialState' | 'isFailure' | 'isFailureResult' | 'clock' | 'random'
> {
  /**
   * Where each origin's breaker keeps its state: a function of the origin gives each origin its
   * own (e.g. `(origin) => redisBreakerState({ client, key: \`breaker:${origin}\` })` to share it
   * with a fleet). Default: in this process.
   */
  readonly store?: BreakerStateStore | ((origin: string) => BreakerStateStore);
  /** Which thrown errors count against the origin. Default: network errors and attempt timeouts. */
  readonly isFailure?: (error: unknown) => boolean;
  /** Which responses count against the origin. Default: 408, 429 and 5xx. */
  readonly isFailureResponse?: (response: Response) => boolean;
}

export interface ClientKeyOptions {
  /** Methods that get a key (those not idempotent by HTTP semantics). Default POST and PATCH. */
  readonly methods?: readonly string[];
  /** Header name. Default `Idempotency-Key`. */
  readonly header?: string;
  /** Make a new key. Default a UUIDv7 from the client's clock and random source. */
  readonly generate?: () => string;
  /** Send the key as a Structured Field string (`"…"`, the IETF draft) or bare (Stripe style). Default true. */
  readonly quoted?: boolean;
}

export interface ClientOptions {
  /** Prefix of relative URLs: `baseUrl: 'https://api.example/v1'` + `'orders'` → `…/v1/orders`. */
  readonly baseUrl?: string | URL;
  /** Retry settings, or `false` for a single attempt per call. */
  readonly retry?: ClientRetryOptions | false;
  /** A circuit breaker per origin (settings for each), or `false` for none. Default: on, with the breaker's defaults. */
  readonly breaker?: ClientBreakerOptions | false;
  /** A retry budget shared with other clients or policies (`tokenBucketBudget()`, `percentageBudget()`). */
  readonly budget?: RetryBudget;
  /** Each attempt is aborted after this long and counts as a network failure (retried when allowed). Default none. */
  readonly attemptTimeoutMs?: number;
  /** Idempotency-Key settings, or `false` to never add one (then POST/PATCH are never retried). */
  readonly key?: ClientKeyOptions | false;
  /**
   * The body of a call that may be retried is read into memory first, whatever its kind (string,
   * Blob, FormData, stream), so each retry sends the same bytes; a body longer than this fails with
   * `RequestBodyTooLargeError` before anything is sent. A call with `retry: false`, or one that is
   * never retried (an unkeyed POST), passes its body through unbuffered. Default 10 MiB.
   */
  readonly maxBodyBytes?: number;
  /** The fetch to call. Default `globalThis.fetch` (looked up on each call). */
  readonly fetch?: (input: string, init: RequestInit) => Promise<Response>;
  readonly clock?: TimerClock;
  /** Random source in [0, 1) for jitter and, when given, for the keys' random bits (default Web Crypto). */
  readonly random?: () => number;
}

const KNOWN = ['baseUrl', 'retry', 'breaker', 'budget', 'attemptTimeoutMs', 'key', 'maxBodyBytes', 'fetch', 'clock', 'random'] as const;
const RETRY_KNOWN = ['maxAttempts', 'backoff', 'maxDelayMs', 'maxDurationMs', 'maxRetryAfterMs'] as const;
const KEY_KNOWN = ['methods', 'header', 'generate', 'quoted'] as const;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/; // an HTTP method or header name (RFC 9110 token)

export interface ResolvedKeyOptions {
  readonly methods: ReadonlySet<string>;
  readonly header: string;
  readonly generate: (() => string) | undefined;
  readonly quoted: boolean;
}

export interface ResolvedClientOptions {
  readonly baseUrl: string | undefined;
  readonly retry: ClientRetryOptions | false;
  readonly breaker: ClientBreakerOptions | false;
  readonly budget: RetryBudget | undefined;
  readonly attemptTimeoutMs: number | undefined;
  readonly key: ResolvedKeyOptions | false;
  readonly maxBodyBytes: number;
  readonly fetch: ((input: string, init: RequestInit) => Promise<Response>) | undefined;
  readonly clock: TimerClock;
  readonly random: (() => number) | undefined;
}

/**
 * Check every option at construction; throws InvalidOptionError naming the bad one. (The stores a
 * `breaker.store` function returns are checked as each origin's breaker is made.)
 */
export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  assertKnownOptions('createClient', options, KNOWN);
  return {
    baseUrl: optional(options.baseUrl, undefined, baseUrl),
    retry: options.retry === false ? false : retryOptions(options.retry ?? {}),
    breaker: options.breaker === false ? false : breakerOptions(options.breaker ?? {}),
    budget: optional(options.budget, undefined, (v) =>
      withMethods<RetryBudget>('createClient.budget', v, ['recordCall', 'recordOutcome', 'tryRetry']),
    ),
    attemptTimeoutMs: optional(options.attemptTimeoutMs, undefined, (v) => positiveInt('createClient.attemptTimeoutMs', v)),
    key: options.key === false ? false : keyOptions(options.key ?? {}),
    maxBodyBytes: optional(options.maxBodyBytes, 10 * 1024 * 1024, (v) => positiveInt('createClient.maxBodyBytes', v)),
    fetch: optional(options.fetch, undefined, (v) =>
      func<(input: string, init: RequestInit) => Promise<Response>>('createClient.fetch', v),
    ),
    clock: optional(options.clock, systemClock, (v) => clockOption<TimerClock>('createClient.clock', v)),
    random: optional(options.random, undefined, (v) => func<() => number>('createClient.random', v)),
  };
}

function baseUrl(value: unknown): string {
  try {
    const url = new URL(String(value));
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
    return url.href;
  } catch {
    throw new InvalidOptionError('createClient.baseUrl', `expected an absolute http(s) URL, got ${String(value)}`);
  }
}

/** Only the names are checked here; the values are checked by the retry policy built from them. */
function retryOptions(value: ClientRetryOptions): ClientRetryOptions {
  assertKnownOptions('createClient.retry', value, RETRY_KNOWN);
  return value;
}

function breakerOptions(value: ClientBreakerOptions): ClientBreakerOptions {
  if (typeof value !== 'object' || value === null) {
    throw new InvalidOptionError('createClient.breaker', 'expected circuit breaker options or false');
  }
  if ('clock' in value || 'random' in value || 'initialState' in value || 'isFailureResult' in value) {
    throw new InvalidOptionError(
      'createClient.breaker',
      'clock and random come from the client options; use isFailureResponse for responses; initialState is per store',
    );
  }
  optional(value.isFailureResponse, undefined, (v) => func('createClient.breaker.isFailureResponse', v));
  optional(value.store, undefined, breakerStore);
  // The rest is checked by circuitBreaker(): createClient() builds one breaker from these options at once.
  return value;
}

/** A store, or a function of the origin that makes one (its stores are checked by circuitBreaker()). */
function breakerStore(value: unknown): ClientBreakerOptions['store'] {
  if (typeof value === 'function') return value as ClientBreakerOptions['store'];
  return withMethods<BreakerStateStore>('createClient.breaker.store', value, ['update', 'read'], 'a function of the origin, or a store');
}

function keyOptions(value: ClientKeyOptions): ResolvedKeyOptions {
  assertKnownOptions('createClient.key', value, KEY_KNOWN);
  const methods = optional(value.methods, ['POST', 'PATCH'] as readonly string[], (v) => {
    if (!Array.isArray(v) || !v.every((m) => typeof m === 'string' && TOKEN.test(m))) {
      throw new InvalidOptionError('createClient.key.methods', 'expected an array of HTTP method names');
    }
    return v as string[];
  });
  const header = optional(value.header, 'Idempotency-Key', (v) => {
    if (typeof v !== 'string' || !TOKEN.test(v)) throw new InvalidOptionError('createClient.key.header', 'expected a header name');
    return v;
  });
  const quoted = optional(value.quoted, true, (v) => {
    if (typeof v !== 'boolean') throw new InvalidOptionError('createClient.key.quoted', 'expected a boolean');
    return v;
  });
  return {
    methods: new Set(methods.map((m) => m.toUpperCase())),
    header,
    generate: optional(value.generate, undefined, (v) => func<() => string>('createClient.key.generate', v)),
    quoted,
  };
}
