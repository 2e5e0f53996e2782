/**
 * `createClient()`: a `fetch` that retries safely. One call is one logical operation: a POST or
 * PATCH gets one Idempotency-Key, and every retry of that call sends the same key and the same
 * body bytes, so a server with idempotency keys (the `oncekey` middleware, Stripe-style APIs) runs
 * it once and answers retries with the first outcome.
 *
 * One call: resolve the URL → decide the key → buffer the body → retry(breaker(origin)(attempt)).
 * An attempt is one fetch, classified by classify.ts. When the retries end on a retryable
 * response (a 503 after the last attempt), the caller gets that response, as from fetch; when
 * they end on a network error, the caller gets that error.
 */
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { circuitBreaker, type CircuitBreakerPolicy } from '../resilience/breaker/circuit-breaker.js';
import { isDeadlineExceededError } from '../resilience/errors/deadline-exceeded.js';
import type { ExecuteContext } from '../resilience/policy.js';
import { RetryPolicy, type RetryEvents } from '../resilience/retry.js';
import { timeout } from '../resilience/timeout.js';
import { bufferBody } from './body.js';
import { inspect, isNetworkError } from './classify.js';
import { IdempotencyKeyReusedError } from './errors.js';
import { keyHeaderValue } from './key.js';
import { resolveClientOptions, type ClientBreakerOptions, type ClientOptions, type ResolvedClientOptions } from './options.js';
import { cryptoRandomBytes, randomBytesFrom, uuidv7 } from './uuid7.js';

/** `RequestInit`, plus what one call may say about its key and its retries. */
export interface ClientRequestInit extends RequestInit {
  /**
   * This call's Idempotency-Key (reused on each of its retries), or `false` to add none (then a
   * POST or PATCH without a key header is not retried). Default: the key already in the headers,
   * else a new one for the methods in `key.methods`.
   */
  readonly idempotencyKey?: string | false;
  /** `false`: one attempt, and the body is passed through without buffering (large uploads). */
  readonly retry?: false;
}

/** What one attempt produced, as retry events see it in `result`. */
export interface ClientAttempt {
  readonly response: Response;
  /** The response is worth another attempt (a retryable status, the draft's 409). */
  readonly retryable: boolean;
  /** The response counts against the origin in its circuit breaker. */
  readonly failure: boolean;
}

/** A fetch-compatible function with retries, idempotency keys and a circuit breaker per origin. */
export interface OncekeyClient {
  (input: string | URL | Request, init?: ClientRequestInit): Promise<Response>;
  /** The circuit breaker of `origin` (`https://host:port`), created on first use; undefined with `breaker: false`. */
  breaker(origin: string | URL): CircuitBreakerPolicy | undefined;
  /**
   * Retry events (`retry`, `giveUp`, `success`, `failure`) of the calls that go through the retry
   * policy; `result` is a {@link ClientAttempt}. Calls with `retry: false`, calls that may not be
   * repeated (an unkeyed POST or PATCH) and every call of a client built with `retry: false` make
   * one attempt outside it and emit none.
   */
  on<K extends keyof RetryEvents>(name: K, listener: (event: RetryEvents[K]) => void): () => void;
}

/** Origins whose breakers are kept; beyond that the least recently used one is dropped. */
const MAX_BREAKERS = 1000;

/** Methods that are idempotent by HTTP semantics (RFC 9110 §9.2.2): retried without a key. */
const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Build a client; throws InvalidOptionError on a bad option. */
export function createClient(options: ClientOptions = {}): OncekeyClient {
  const config = resolveClientOptions(options);
  const { clock } = config;
  const randomBytes = config.random === undefined ? cryptoRandomBytes : randomBytesFrom(config.random);
  const key = config.key;
  const newKey = key === false ? undefined : (key.generate ?? (() => uuidv7(clock.now(), randomBytes)));
  const breakerFor = breakers(config);
  const attemptTimeout = config.attemptTimeoutMs === undefined ? undefined : timeout(config.attemptTimeoutMs, { clock });

  const retry =
    config.retry === false
      ? undefined
      : new RetryPolicy({
          ...config.retry,
          isRetryable: (error) => isNetworkError(error) || isDeadlineExceededError(error),
          // Only ever sees the ClientAttempt built below (the policy is not exposed).
          isRetryableResult: (result) => (result as ClientAttempt).retryable,
          ...(config.budget === undefined ? {} : { budget: config.budget }),
          ...(config.random === undefined ? {} : { random: config.random }),
          clock,
        });

  async function call(input: string | URL | Request, init: ClientRequestInit = {}): Promise<Response> {
    const { idempotencyKey, retry: retryThisCall, ...requestInit } = init;
    const url = resolveUrl(input, config.baseUrl);
    const template = new Request(input instanceof Request ? input : url, requestInit);
    const method = template.method.toUpperCase();
    const signal = requestInit.signal ?? (input instanceof Request ? input.signal : undefined) ?? undefined;
    const headers = new Headers(template.headers);

    if (typeof idempotencyKey === 'string' && key === false) {
      throw new InvalidOptionError('idempotencyKey', 'this client was created with key: false');
    }
    // The key of this call: given, already in the headers, or new; the same on every attempt.
    // The header is set only for a key made here; the caller's own header goes as written.
    let callKey: string | undefined;
    if (key !== false) {
      if (typeof idempotencyKey === 'string') callKey = setKey(headers, key.header, idempotencyKey, key.quoted);
      else if (headers.has(key.header)) callKey = unquote(headers.get(key.header)!);
      else if (idempotencyKey === undefined && key.methods.has(method)) callKey = setKey(headers, key.header, newKey!(), key.quoted);
    }
    const keyed = callKey !== undefined;
    // A request that is not idempotent may run twice if sent twice, unless a key makes the server dedupe it.
    const repeatable = IDEMPOTENT_METHODS.has(method) || keyed;
    const policy = retryThisCall === false || !repeatable ? undefined : retry;

    // The same bytes on every attempt; a single attempt may stream the body through instead.
    const body: RequestInit['body'] = policy === undefined ? template.body : await bufferBody(template, config.maxBodyBytes, signal);
    const extra = input instanceof Request ? requestFields(template) : requestInit;
    const fetchImpl = config.fetch ?? globalThis.fetch;
    const breaker = breakerFor(new URL(template.url).origin);

    let previous: Response | undefined;
    const attempt = async ({ signal: attemptSignal }: ExecuteContext): Promise<ClientAttempt> => {
      // The last retryable response will not be read: free its connection.
      void previous?.body?.cancel().catch(() => {});
      previous = undefined;
      const response = await fetchImpl(template.url, {
        ...extra,
        method: template.method,
        headers,
        body,
        signal: attemptSignal,
        ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
      const verdict = await inspect(response, keyed);
      if (verdict.mismatch !== undefined) {
        void response.body?.cancel().catch(() => {});
        throw new IdempotencyKeyReusedError(method, template.url, callKey!, verdict.mismatch, response.status);
      }
      previous = response;
      return { response, ...verdict };
    };
    const guarded = (context: ExecuteContext): Promise<ClientAttempt> => {
      const timed = attemptTimeout === undefined ? attempt : (c: ExecuteContext) => attemptTimeout.execute(attempt, c);
      return breaker === undefined ? timed(context) : breaker.execute(timed, context);
    };

    let settled = false;
    try {
      const result = policy === undefined ? await runOnce(guarded, signal) : await policy.execute(guarded, { signal });
      settled = true;
      return result.response;
    } finally {
      // Ended on an error after a retryable response: nobody will read that response's body.
      if (!settled) void previous?.body?.cancel().catch(() => {});
    }
  }

  return Object.assign(call, {
    breaker: (origin: string | URL) => breakerFor(new URL(String(origin)).origin),
    on: <K extends keyof RetryEvents>(name: K, listener: (event: RetryEvents[K]) => void) =>
      retry === undefined ? () => {} : retry.on(name, listener),
  });
}

/** Put `key` in the header; returns the key. */
function setKey(headers: Headers, name: string, key: string, quoted: boolean): string {
  headers.set(name, keyHeaderValue(key, quoted));
  return key;
}

/** The key in a header value: an sf-string `"…"` unescaped, a bare key as it is. */
function unquote(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length < 2 || !trimmed.startsWith('"') || !trimmed.endsWith('"')) return trimmed;
  return trimmed.slice(1, -1).replace(/\\(.)/g, '$1');
}

function runOnce<T>(task: (context: ExecuteContext) => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  signal?.throwIfAborted();
  return task({ signal: signal ?? new AbortController().signal, deadline: undefined, attempt: 1 });
}

/** `baseUrl` + a relative URL, joined with exactly one slash; absolute URLs and Requests pass as they are. */
function resolveUrl(input: string | URL | Request, base: string | undefined): string {
  if (input instanceof Request) return input.url;
  if (input instanceof URL) return input.href;
  if (URL.canParse(input)) return new URL(input).href;
  if (base === undefined) {
    throw new InvalidOptionError('input', `${JSON.stringify(input)} is not an absolute URL and the client has no baseUrl`);
  }
  return new URL(`${base.replace(/\/+$/, '')}/${input.replace(/^\/+/, '')}`).href;
}

/** The fields of a Request that fetch would use, besides method, headers, body and signal. */
function requestFields(request: Request): RequestInit {
  return {
    redirect: request.redirect,
    credentials: request.credentials,
    mode: request.mode,
    referrer: request.referrer,
    referrerPolicy: request.referrerPolicy,
    integrity: request.integrity,
    keepalive: request.keepalive,
  };
}

/**
 * Whether an attempt counts against its origin: classify.ts's verdict, or `isFailureResponse`'s.
 * Reads the attempt's fields, whatever class its Response is. A value that is not an attempt (a
 * task run on `client.breaker(origin)` directly) is not a failure.
 */
function isFailureAttempt(
  attempt: ClientAttempt | null | undefined,
  isFailureResponse: ((response: Response) => boolean) | undefined,
): boolean {
  if (attempt?.response === undefined) return false;
  return isFailureResponse === undefined ? attempt.failure : isFailureResponse(attempt.response);
}

/** One circuit breaker per origin, created on first use (or none with `breaker: false`). */
function breakers(config: ResolvedClientOptions): (origin: string) => CircuitBreakerPolicy | undefined {
  if (config.breaker === false) return () => undefined;
  const { store, isFailure, isFailureResponse, ...rest } = config.breaker as ClientBreakerOptions;
  const make = (origin: string | undefined): CircuitBreakerPolicy =>
    circuitBreaker({
      ...rest,
      ...(store === undefined || origin === undefined ? {} : { store: typeof store === 'function' ? store(origin) : store }),
      isFailure: isFailure ?? ((error) => isNetworkError(error) || isDeadlineExceededError(error)),
      // Default: what classify.ts calls a failure (408, 429, 5xx; never the draft's 409).
      isFailureResult: (result) => isFailureAttempt(result as ClientAttempt, isFailureResponse),
      clock: config.clock,
      ...(config.random === undefined ? {} : { random: config.random }),
    });
  make(undefined); // check the options now, not on the first call
  // Most recently used last; a client that talks to very many hosts (webhooks) forgets the oldest.
  const byOrigin = new Map<string, CircuitBreakerPolicy>();
  return (origin) => {
    let breaker = byOrigin.get(origin);
    if (breaker !== undefined) byOrigin.delete(origin);
    else breaker = make(origin);
    byOrigin.set(origin, breaker);
    if (byOrigin.size > MAX_BREAKERS) byOrigin.delete(byOrigin.keys().next().value!);
    return breaker;
  };
}
