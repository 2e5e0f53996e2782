/**
 * The idempotency middleware, framework-free: a web `Request` and the handler (`next`) in, a web
 * `Response` out. Adapters (`oncekey/hono`, `/express`, `/fastify`, `/node`) and the gateway wrap it.
 *
 * One request: covered method? → parse `Idempotency-Key` → read the body within the limit →
 * scope + fingerprint → engine `run`:
 *   replay → the stored response, `Idempotent-Replayed: true`;
 *   in progress → 409 problem + Retry-After (or wait); mismatch → 422; store down → 503;
 *   acquired → the handler runs; a stored status with its body in hand at once is stored, then
 *   sent from memory; a streamed body streams to the caller while it is captured and committed
 *   (the caller's body ends only after the commit); any other status, a thrown error or a broken
 *   body stream releases the key.
 */
import { isFingerprintMismatchError } from '../core/errors/mismatch.js';
import { isInProgressError } from '../core/errors/in-progress.js';
import { isStoreUnavailableError } from '../core/errors/store-unavailable.js';
import type { RunResult } from '../engine/oncekey.js';
import type { RunOptions } from '../engine/settings.js';
import type { KeyRef } from '../store/contract.js';
import { type BodyRead, readBodyWithin } from './body.js';
import { type CapturedBody, captureResponse } from './capture.js';
import { parseIdempotencyKey } from './idempotency-key.js';
import { type IdempotencyOptions, type OutcomeEvent, type ResolvedOptions, resolveOptions } from './options.js';
import { problemResponse } from './problem.js';
import { type StoredValue, fromStoredValue, pickHeaders, replayResponse, toStoredValue } from './stored-response.js';

/** The rest of the chain: the application handler, or the upstream for a gateway. */
export type Next = (request: Request) => Promise<Response>;

/** The middleware: what adapters call for every request. */
export interface IdempotencyHandler {
  /**
   * `body`, when given, is the request's body already in hand (an adapter read it, or a framework
   * cached it): the middleware then reads nothing from `request` and hands `request` itself to
   * `next`, so the adapter must make the same bytes available to the application.
   */
  (request: Request, next: Next, body?: Uint8Array): Promise<Response>;
  /**
   * Whether requests with this method are covered. Adapters use it to hand other requests
   * straight to the application, without the middleware (and without an `onOutcome` event).
   */
  covers(method: string): boolean;
}

/** Seconds a client is told to wait on a 409: the first request usually ends well within a lease. */
const RETRY_AFTER_SECONDS = '1';

/** Build the middleware. Throws InvalidOptionError on a bad option. */
export function idempotency(options: IdempotencyOptions): IdempotencyHandler {
  const config = resolveOptions(options);
  const runOptions: RunOptions = {
    onInProgress: config.onInProgress === 'wait' ? 'wait' : 'throw',
    cacheErrors: false, // a thrown error always releases; stored statuses are decided here
    ...(config.ttlMs === undefined ? {} : { ttl: config.ttlMs }),
    ...(config.leaseMs === undefined ? {} : { lease: config.leaseMs }),
    ...(config.waitTimeoutMs === undefined ? {} : { wait: { timeout: config.waitTimeoutMs } }),
  };
  const emit = (event: OutcomeEvent): void => {
    if (config.onOutcome === undefined) return;
    try {
      config.onOutcome(event);
    } catch (error) {
      config.onError(error, { during: 'hook', ...(event.ref ? { ref: event.ref } : {}) });
    }
  };

  const middleware = async function idempotencyMiddleware(request: Request, next: Next, inHand?: Uint8Array): Promise<Response> {
    if (!config.methods.has(request.method.toUpperCase())) return skip(request, next, emit);
    const parsed = parseIdempotencyKey(request.headers.get('idempotency-key'), { acceptBareKey: config.acceptBareKey });
    if (parsed.kind === 'missing') {
      if (!config.required) return skip(request, next, emit);
      return reject(
        request,
        emit,
        problemResponse(
          'key-required',
          `${request.method} requests to this API need an Idempotency-Key header, e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"`,
        ),
      );
    }
    if (parsed.kind === 'malformed') return reject(request, emit, problemResponse('key-malformed', parsed.detail));

    const read: BodyRead =
      inHand === undefined
        ? await readBodyWithin(request, config.maxRequestBody)
        : inHand.byteLength > config.maxRequestBody
          ? { kind: 'too_large', limit: config.maxRequestBody }
          : { kind: 'body', bytes: inHand };
    if (read.kind === 'too_large') {
      return reject(
        request,
        emit,
        problemResponse('body-too-large', `the request body exceeds ${config.maxRequestBody} bytes; nothing was run`, {
          headers: { connection: 'close' },
          extensions: { limit: config.maxRequestBody },
        }),
      );
    }
    const body = read.bytes;
    // The body was read (even an empty stream leaves the request used): the handler gets a copy
    // holding the same bytes. A request without a body was never read and goes on as it is.
    const forwarded = (): Request => (inHand === undefined && request.bodyUsed ? new Request(request, { body }) : request);
    const ref: KeyRef = { scope: await config.scope(request), key: parsed.key };
    const fingerprintInput = await config.fingerprint(request, body);
    return protect(config, runOptions, emit, request, ref, fingerprintInput, forwarded, next);
  };
  return Object.assign(middleware, { covers: (method: string) => config.methods.has(method.toUpperCase()) });
}

async function protect(
  config: ResolvedOptions,
  runOptions: RunOptions,
  emit: (event: OutcomeEvent) => void,
  request: Request,
  ref: KeyRef,
  fingerprintInput: unknown,
  forwarded: () => Request,
  next: Next,
): Promise<Response> {
  let ran = false;
  let bodyBroke = false;
  let produced: Response | undefined;
  let stored = false;
  // Resolved when a stored status's body starts streaming to the caller; the run ends later.
  const streaming = deferred<Response>();
  // The caller's stream closes only once the run (commit or release) is over.
  const runOver = deferred<void>();

  const run = config.engine.run<StoredValue>(
    ref,
    fingerprintInput,
    async () => {
      ran = true;
      const response = await next(forwarded());
      produced = response;
      if (!config.storeStatus(response.status)) throw new ReleaseKey(response);
      const captured = deferred<CapturedBody>();
      const capture = await captureResponse(response, config.maxResponseBody, async (result) => {
        captured.resolve(result);
        await runOver.promise;
      });
      let result: CapturedBody;
      if (capture.kind === 'complete') {
        // The body was in hand at once: the caller gets it from memory once it is stored.
        result = capture;
        if (response.body !== null)
          produced = new Response(capture.bytes, { status: response.status, statusText: response.statusText, headers: response.headers });
      } else {
        streaming.resolve((produced = capture.response));
        result = await captured.promise;
      }
      if (result.kind === 'error') {
        bodyBroke = true;
        throw result.error; // a broken body is a failure of the handler: release
      }
      stored = true;
      if (result.kind === 'too_large') return toStoredValue({ kind: 'too_large', status: response.status, limit: config.maxResponseBody });
      return toStoredValue({
        kind: 'response',
        status: response.status,
        headers: pickHeaders(response.headers, config.replayHeaders),
        body: result.bytes,
      });
    },
    runOptions,
  );

  const settled: Promise<Settled> = run.then(
    (result) => ({ ok: true, result }),
    (error: unknown) => ({ ok: false, error }),
  );
  void settled.then((outcome) => {
    runOver.resolve();
    if (!ran) return;
    if (!outcome.ok && !(outcome.error instanceof ReleaseKey) && !bodyBroke && produced !== undefined) {
      // The handler answered but its outcome could not be stored (store down, lease lost): the
      // caller still gets the answer; the key frees itself when the lease runs out.
      config.onError(outcome.error, { during: 'commit', ref });
    }
    if (produced !== undefined) emit({ outcome: 'executed', request, status: produced.status, ref, stored: stored && outcome.ok });
  });

  const first = await Promise.race([streaming.promise, settled]);
  if (first instanceof Response) return first;
  if (first.ok) {
    if (!first.result.replayed) return produced as Response; // a body in hand (or none): stored before answering
    return replay(emit, request, ref, first.result);
  }
  const { error } = first;
  if (error instanceof ReleaseKey) return error.response;
  if (produced !== undefined) return produced;
  if (ran) throw error; // the handler threw; the key was released
  if (isInProgressError(error)) {
    emit({ outcome: 'conflict', request, status: 409, ref });
    return problemResponse('key-in-use', 'a request with this Idempotency-Key is still being processed; retry later to get its response', {
      headers: { 'retry-after': RETRY_AFTER_SECONDS },
    });
  }
  if (isFingerprintMismatchError(error)) {
    emit({ outcome: 'mismatch', request, status: 422, ref });
    return problemResponse(
      'fingerprint-mismatch',
      'this Idempotency-Key was already used for a different request (method, path or body); nothing was run',
    );
  }
  if (isStoreUnavailableError(error)) {
    if (!config.failOpen) {
      emit({ outcome: 'unavailable', request, status: 503, ref });
      return problemResponse(
        'store-unavailable',
        'the idempotency store cannot be reached, so the request was not run; retry later with the same key',
        {
          headers: { 'retry-after': RETRY_AFTER_SECONDS },
        },
      );
    }
    config.onError(error, { during: 'begin', ref });
    const response = withHeader(await next(forwarded()), 'idempotent-bypassed', 'store-unavailable');
    emit({ outcome: 'bypassed', request, status: response.status, ref });
    return response;
  }
  throw error;
}

function replay(emit: (event: OutcomeEvent) => void, request: Request, ref: KeyRef, result: RunResult<StoredValue>): Response {
  const outcome = fromStoredValue(result.value);
  const response =
    outcome.kind === 'response'
      ? replayResponse(outcome)
      : problemResponse(
          'response-too-large',
          `the request with this Idempotency-Key was run (status ${outcome.status}) but its response exceeded ${outcome.limit} bytes and was not kept, so it cannot be replayed; do not retry it with a new key, that would run it again`,
          {
            headers: { 'idempotent-replayed': 'true' },
            extensions: { originalStatus: outcome.status, limit: outcome.limit },
          },
        );
  emit({ outcome: 'replayed', request, status: response.status, ref });
  return response;
}

async function skip(request: Request, next: Next, emit: (event: OutcomeEvent) => void): Promise<Response> {
  const response = await next(request);
  emit({ outcome: 'skipped', request, status: response.status });
  return response;
}

function reject(request: Request, emit: (event: OutcomeEvent) => void, response: Response): Response {
  emit({ outcome: 'rejected', request, status: response.status });
  return response;
}

/** Carries a response whose status is not stored out of `run`, so the engine releases the key. */
class ReleaseKey extends Error {
  constructor(readonly response: Response) {
    super(`status ${response.status} is not stored; the key is released`);
    this.name = 'ReleaseKey';
  }
}

type Settled = { ok: true; result: RunResult<StoredValue> } | { ok: false; error: unknown };

interface Deferred<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** `response` with one more header, copying it when its headers are immutable (e.g. from fetch). */
function withHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.set(name, value);
    return response;
  } catch {
    const copy = new Response(response.body, { status: response.status, statusText: response.statusText, headers: response.headers });
    copy.headers.set(name, value);
    return copy;
  }
}
