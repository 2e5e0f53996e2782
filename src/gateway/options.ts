/**
 * Options of the gateway, validated once so a typo fails at start-up, not at the first request.
 */
import { type Duration, toMs } from '../engine/duration.js';
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import type { ErrorContext, IdempotencyOptions } from '../http/options.js';
import type { Store } from '../store/contract.js';
import { assertKnownOptions, positiveInt } from '../core/options.js';
import { describeError } from '../core/warn.js';
import { parseUpstreamUrl } from './upstream.js';

export interface GatewayOptions {
  /** The API to put the gateway in front of, e.g. `http://127.0.0.1:3000` (a path becomes a prefix). */
  readonly upstream: string | URL;
  /** Where key records live; the caller owns it (the gateway never closes it). */
  readonly store: Store;
  /** Port of the proxy; default 8787, 0 for any free port. */
  readonly port?: number;
  /** Interface of the proxy and admin servers; default `127.0.0.1`. */
  readonly host?: string;
  /** Port of `/healthz`, `/readyz` and `/metrics`; default 8788, 0 for any free port, `false` for none. */
  readonly adminPort?: number | false;
  /** Methods the key applies to; default POST and PATCH. Others pass through untouched. */
  readonly methods?: readonly string[];
  /** Answer 400 to a covered request without `Idempotency-Key`; default false (it passes through). */
  readonly requireKey?: boolean;
  /** How long responses are kept for replay; default `'24h'`. */
  readonly ttl?: Duration;
  /** How long a request holds its key before another may take it over (renewed while it runs); default `'30s'`. */
  readonly lease?: Duration;
  /** Scope records by this request header's value (e.g. `x-tenant-id`) instead of a hash of `Authorization`. */
  readonly scopeHeader?: string;
  /** Largest request body of a covered request, in bytes; default 1 MiB (413 above). */
  readonly maxBody?: number;
  /** Largest response kept for replay, in bytes; default 1 MiB. */
  readonly maxResponseBody?: number;
  /** Time the upstream has to start answering (and between body chunks); default `'30s'`. Then 504. */
  readonly upstreamTimeout?: Duration;
  /** Most connections to the upstream at once; default unlimited. */
  readonly upstreamConnections?: number;
  /** Collect prom-client's default process metrics too; default true. */
  readonly processMetrics?: boolean;
  /** Where errors no caller sees are reported (a commit that failed, …); default stderr. */
  readonly log?: (message: string) => void;
  /**
   * More middleware options (fingerprint parts, `onInProgress: 'wait'`, `storeStatus`, a `scope`
   * function, `onOutcome`, …). The ones the gateway has itself (`store`, `ttl`, `lease`, `methods`,
   * `requireKey`, `maxBody`, `maxResponseBody`) are set there.
   */
  readonly idempotency?: GatewayIdempotencyOptions;
}

/** Middleware options the gateway passes through. */
export type GatewayIdempotencyOptions = Omit<IdempotencyOptions, (typeof OWN_OPTIONS)[number]>;

/** Middleware options with a gateway option of their own. */
const OWN_OPTIONS = ['oncekey', 'store', 'ttl', 'lease', 'methods', 'required', 'maxRequestBody', 'maxResponseBody'] as const;

const KNOWN = [
  'upstream',
  'store',
  'port',
  'host',
  'adminPort',
  'methods',
  'requireKey',
  'ttl',
  'lease',
  'scopeHeader',
  'maxBody',
  'maxResponseBody',
  'upstreamTimeout',
  'upstreamConnections',
  'processMetrics',
  'log',
  'idempotency',
] as const;

const MiB = 1024 * 1024;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export interface ResolvedGatewayOptions {
  readonly upstream: URL;
  readonly store: Store;
  readonly port: number;
  readonly host: string;
  readonly adminPort: number | false;
  readonly methods: readonly string[];
  readonly requireKey: boolean;
  readonly ttlMs: number | undefined;
  readonly leaseMs: number | undefined;
  readonly scopeHeader: string | undefined;
  readonly maxBody: number;
  readonly maxResponseBody: number;
  readonly upstreamTimeoutMs: number;
  readonly upstreamConnections: number | undefined;
  readonly processMetrics: boolean;
  readonly log: (message: string) => void;
  readonly idempotency: GatewayIdempotencyOptions;
}

export function resolveGatewayOptions(options: GatewayOptions): ResolvedGatewayOptions {
  if (options === null || typeof options !== 'object')
    throw new InvalidOptionError('gateway', 'expected an options object with upstream and store');
  assertKnownOptions('gateway', options, KNOWN);
  const o = options;
  if (o.upstream === undefined)
    throw new InvalidOptionError('gateway.upstream', 'required: the URL of the API to put the gateway in front of');
  if (o.store === undefined || o.store === null || typeof o.store.begin !== 'function') {
    throw new InvalidOptionError('gateway.store', 'required: a Store (memoryStore, sqliteStore, postgresStore, redisStore)');
  }
  const methods = (o.methods ?? ['POST', 'PATCH']).map((m) => String(m).toUpperCase());
  if (methods.length === 0 || methods.some((m) => !/^[A-Z]+$/.test(m))) {
    throw new InvalidOptionError('gateway.methods', `expected method names such as POST, PATCH; got ${JSON.stringify(o.methods)}`);
  }
  if (o.scopeHeader !== undefined && (typeof o.scopeHeader !== 'string' || !HEADER_NAME.test(o.scopeHeader))) {
    throw new InvalidOptionError('gateway.scopeHeader', `expected a header name such as x-tenant-id, got ${JSON.stringify(o.scopeHeader)}`);
  }
  for (const name of ['requireKey', 'processMetrics'] as const) {
    if (o[name] !== undefined && typeof o[name] !== 'boolean') throw new InvalidOptionError(`gateway.${name}`, 'expected a boolean');
  }
  if (o.log !== undefined && typeof o.log !== 'function') throw new InvalidOptionError('gateway.log', 'expected a function');
  const idempotency = o.idempotency ?? {};
  if (idempotency === null || typeof idempotency !== 'object')
    throw new InvalidOptionError('gateway.idempotency', 'expected an options object');
  for (const name of OWN_OPTIONS) {
    if (name in idempotency)
      throw new InvalidOptionError(`gateway.idempotency.${name}`, 'not here: the gateway has an option of its own for it');
  }
  if (o.scopeHeader !== undefined && idempotency.scope !== undefined) {
    throw new InvalidOptionError('gateway.scopeHeader', 'give scopeHeader or idempotency.scope, not both');
  }
  return {
    upstream: parseUpstreamUrl(o.upstream, 'gateway.upstream'),
    store: o.store,
    port: port('gateway.port', o.port ?? 8787),
    host: o.host ?? '127.0.0.1',
    adminPort: o.adminPort === false ? false : port('gateway.adminPort', o.adminPort ?? 8788),
    methods,
    requireKey: o.requireKey ?? false,
    ttlMs: o.ttl === undefined ? undefined : toMs('gateway.ttl', o.ttl),
    leaseMs: o.lease === undefined ? undefined : toMs('gateway.lease', o.lease),
    scopeHeader: o.scopeHeader?.toLowerCase(),
    maxBody: o.maxBody === undefined ? MiB : positiveInt('gateway.maxBody', o.maxBody),
    maxResponseBody: o.maxResponseBody === undefined ? MiB : positiveInt('gateway.maxResponseBody', o.maxResponseBody),
    upstreamTimeoutMs: toMs('gateway.upstreamTimeout', o.upstreamTimeout ?? '30s'),
    upstreamConnections:
      o.upstreamConnections === undefined ? undefined : positiveInt('gateway.upstreamConnections', o.upstreamConnections),
    processMetrics: o.processMetrics ?? true,
    log: o.log ?? ((message) => process.stderr.write(`${message}\n`)),
    idempotency,
  };
}

/** A TCP port, 0 meaning any free one. */
export function port(option: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 65535) {
    throw new InvalidOptionError(option, `expected a port number from 0 to 65535, got ${String(value)}`);
  }
  return value;
}

/** How the gateway reports an error no caller sees. */
export function describeGatewayError(error: unknown, context: ErrorContext): string {
  const where = context.ref === undefined ? '' : ` (key ${JSON.stringify(context.ref.key)})`;
  return `oncekey proxy: ${context.during} failed${where}: ${describeError(error)}`;
}
