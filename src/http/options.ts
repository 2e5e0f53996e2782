/**
 * Options of the idempotency middleware, validated once at construction so a typo fails where it
 * is written, not at the first duplicate request in production.
 */
import { Oncekey } from '../engine/oncekey.js';
import type { OncekeyHooks } from '../engine/hooks.js';
import { type Duration, toMs } from '../engine/duration.js';
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import type { KeyRef, Store } from '../store/contract.js';
import { assertKnownOptions, positiveInt } from '../core/options.js';
import { describeError, emitWarning } from '../core/warn.js';
import { type FingerprintOption, requestFingerprinter } from './request-fingerprint.js';
import { type ScopeFunction, authorizationScope } from './scope.js';
import { DEFAULT_REPLAY_HEADERS, replayHeaderSet } from './stored-response.js';

/** What the middleware did with one request; for metrics and logs. */
export type IdempotencyOutcome =
  /** The handler ran under the key; `stored` tells whether its response was kept for replay. */
  | 'executed'
  /** A stored response was sent back. */
  | 'replayed'
  /** 409: another request with the key is in flight. */
  | 'conflict'
  /** 422: the key was used for a different request. */
  | 'mismatch'
  /** 400 or 413: missing or malformed key, body too large; nothing ran. */
  | 'rejected'
  /** 503: the store could not be reached; nothing ran. */
  | 'unavailable'
  /** The store could not be reached and `failOpen` ran the handler without protection. */
  | 'bypassed'
  /** Not covered (method, or no key where none is required): passed through untouched. */
  | 'skipped';

export interface OutcomeEvent {
  readonly outcome: IdempotencyOutcome;
  readonly request: Request;
  /** The HTTP status sent. */
  readonly status: number;
  readonly ref?: KeyRef;
  /** For `executed`: whether the response was stored (replayable or as response-too-large). */
  readonly stored?: boolean;
}

/**
 * An error no caller sees: `commit` (the handler answered but its response could not be stored),
 * `begin` (the store was down and `failOpen` ran the handler anyway), `hook` (`onOutcome` threw).
 */
export interface ErrorContext {
  readonly during: 'begin' | 'commit' | 'hook';
  readonly ref?: KeyRef;
}

export interface IdempotencyOptions {
  /** The engine to use. Give this or `store`. */
  readonly oncekey?: Oncekey;
  /** A store; the middleware builds its engine with `ttl`, `lease` and `hooks`. */
  readonly store?: Store;
  /** How long responses are kept for replay; default `'24h'`. */
  readonly ttl?: Duration;
  /** How long a request holds its key before another may take it over (renewed while it runs); default `'30s'`. */
  readonly lease?: Duration;
  /** Engine hooks, with `store` only (with `oncekey`, configure them on the engine). */
  readonly hooks?: OncekeyHooks;
  /** Methods the key applies to; default POST and PATCH. Other methods pass through. */
  readonly methods?: readonly string[];
  /** Answer 400 when a covered request has no key; default false (it passes through). */
  readonly required?: boolean;
  /** Accept a bare `Idempotency-Key: abc` besides the Structured Field `"abc"`; default true. */
  readonly acceptBareKey?: boolean;
  /** The principal a request's records belong to; default a hash of `Authorization`, else `anonymous`. */
  readonly scope?: ScopeFunction;
  /** Which parts of the request identify it, or a function returning the value to fingerprint. */
  readonly fingerprint?: FingerprintOption;
  /** While the key's first request runs: answer 409 (`'conflict'`, default) or wait for its response. */
  readonly onInProgress?: 'conflict' | 'wait';
  /** With `'wait'`: answer 409 after this long; default one lease. */
  readonly waitTimeout?: Duration;
  /**
   * Which handler statuses are stored and replayed; others release the key so a retry runs again.
   * Default: below 500, except 408, 409, 425 and 429 (the request did not take effect, or may
   * succeed later).
   */
  readonly storeStatus?: (status: number) => boolean;
  /** Largest request body in bytes; a larger one is a 413 and nothing runs. Default 1 MiB. */
  readonly maxRequestBody?: number;
  /**
   * Largest response body kept for replay, in bytes; default 1 MiB. A larger response still
   * reaches the first caller whole; its retries get a 410 response-too-large problem (never a
   * truncated body, never a second execution).
   */
  readonly maxResponseBody?: number;
  /** Response headers replayed (and stored); never `Set-Cookie` or credentials. */
  readonly replayHeaders?: readonly string[];
  /**
   * When the store cannot be reached: false (default) answers 503; true runs the handler without
   * protection and marks the response `Idempotent-Bypassed: store-unavailable`.
   */
  readonly failOpen?: boolean;
  /** Called once per request with what was done; must not throw (errors go to `onError`). */
  readonly onOutcome?: (event: OutcomeEvent) => void;
  /** Errors no caller sees; default a process warning. */
  readonly onError?: (error: unknown, context: ErrorContext) => void;
}

const KNOWN = [
  'oncekey',
  'store',
  'ttl',
  'lease',
  'hooks',
  'methods',
  'required',
  'acceptBareKey',
  'scope',
  'fingerprint',
  'onInProgress',
  'waitTimeout',
  'storeStatus',
  'maxRequestBody',
  'maxResponseBody',
  'replayHeaders',
  'failOpen',
  'onOutcome',
  'onError',
] as const;

const MiB = 1024 * 1024;
const NOT_TAKEN_EFFECT = new Set([408, 409, 425, 429]);

/** The default `storeStatus`. */
export const storeStatusDefault = (status: number): boolean => status < 500 && !NOT_TAKEN_EFFECT.has(status);

export interface ResolvedOptions {
  readonly engine: Oncekey;
  readonly ttlMs: number | undefined;
  readonly leaseMs: number | undefined;
  readonly methods: ReadonlySet<string>;
  readonly required: boolean;
  readonly acceptBareKey: boolean;
  readonly scope: ScopeFunction;
  readonly fingerprint: (request: Request, body: Uint8Array) => Promise<unknown>;
  readonly onInProgress: 'conflict' | 'wait';
  readonly waitTimeoutMs: number | undefined;
  readonly storeStatus: (status: number) => boolean;
  readonly maxRequestBody: number;
  readonly maxResponseBody: number;
  readonly replayHeaders: ReadonlySet<string>;
  readonly failOpen: boolean;
  readonly onOutcome: ((event: OutcomeEvent) => void) | undefined;
  readonly onError: (error: unknown, context: ErrorContext) => void;
}

export function resolveOptions(options: IdempotencyOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object')
    throw new InvalidOptionError('idempotency', 'expected an options object with oncekey or store');
  assertKnownOptions('idempotency', options, KNOWN);
  const o = options;
  if ((o.oncekey === undefined) === (o.store === undefined)) {
    throw new InvalidOptionError('idempotency', 'give exactly one of oncekey (an engine) or store');
  }
  if (o.oncekey !== undefined && !(o.oncekey instanceof Oncekey))
    throw new InvalidOptionError('idempotency.oncekey', 'expected an Oncekey engine');
  if (o.oncekey !== undefined && o.hooks !== undefined) {
    throw new InvalidOptionError('idempotency.hooks', 'only with store; with oncekey, give the hooks to the engine');
  }
  const ttlMs = o.ttl === undefined ? undefined : toMs('idempotency.ttl', o.ttl);
  const leaseMs = o.lease === undefined ? undefined : toMs('idempotency.lease', o.lease);
  const engine =
    o.oncekey ??
    new Oncekey({
      store: o.store as Store,
      ttl: ttlMs ?? '24h',
      lease: leaseMs ?? '30s',
      ...(o.hooks === undefined ? {} : { hooks: o.hooks }),
    });

  const methods = o.methods ?? ['POST', 'PATCH'];
  if (!Array.isArray(methods) || methods.some((m) => typeof m !== 'string' || !/^[A-Za-z]+$/.test(m))) {
    throw new InvalidOptionError('idempotency.methods', 'expected an array of method names such as ["POST", "PATCH"]');
  }
  const onInProgress = o.onInProgress ?? 'conflict';
  if (onInProgress !== 'conflict' && onInProgress !== 'wait') {
    throw new InvalidOptionError('idempotency.onInProgress', `expected 'conflict' or 'wait', got ${JSON.stringify(onInProgress)}`);
  }
  if (o.waitTimeout !== undefined && onInProgress !== 'wait') {
    throw new InvalidOptionError('idempotency.waitTimeout', "only with onInProgress: 'wait'");
  }
  for (const name of ['scope', 'storeStatus', 'onOutcome', 'onError'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'function') throw new InvalidOptionError(`idempotency.${name}`, 'expected a function');
  }
  for (const name of ['required', 'acceptBareKey', 'failOpen'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') throw new InvalidOptionError(`idempotency.${name}`, 'expected a boolean');
  }
  return {
    engine,
    ttlMs,
    leaseMs,
    methods: new Set(methods.map((m) => m.toUpperCase())),
    required: o.required ?? false,
    acceptBareKey: o.acceptBareKey ?? true,
    scope: o.scope ?? authorizationScope,
    fingerprint: requestFingerprinter(o.fingerprint, 'idempotency.fingerprint'),
    onInProgress,
    waitTimeoutMs: o.waitTimeout === undefined ? undefined : toMs('idempotency.waitTimeout', o.waitTimeout),
    storeStatus: o.storeStatus ?? storeStatusDefault,
    maxRequestBody: o.maxRequestBody === undefined ? MiB : positiveInt('idempotency.maxRequestBody', o.maxRequestBody),
    maxResponseBody: o.maxResponseBody === undefined ? MiB : positiveInt('idempotency.maxResponseBody', o.maxResponseBody),
    replayHeaders: replayHeaderSet('idempotency.replayHeaders', o.replayHeaders ?? DEFAULT_REPLAY_HEADERS),
    failOpen: o.failOpen ?? false,
    onOutcome: o.onOutcome,
    onError: o.onError ?? warn,
  };
}

function warn(error: unknown, context: ErrorContext): void {
  const where = context.ref === undefined ? '' : ` on ${context.ref.scope}/${context.ref.key}`;
  emitWarning(`Oncekey idempotency middleware: ${context.during} failed${where}: ${describeError(error)}`, 'ONCEKEY_HTTP_ERROR');
}
