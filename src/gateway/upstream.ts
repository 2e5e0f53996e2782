/**
 * The upstream API behind the gateway: one undici `Pool` (kept-alive connections) per origin.
 * Request and response bodies stream; a connection failure or a timeout becomes an
 * {@link UpstreamError} the gateway turns into a 502 or 504 problem.
 */
import type { Readable } from 'node:stream';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { upstreamResponseHeaders } from './headers.js';

export interface UpstreamRequest {
  readonly method: string;
  /** The request-target to send, base path of the upstream URL included. */
  readonly path: string;
  /** undici's flat `[name, value, …]` list, already without hop-by-hop headers. */
  readonly headers: string[];
  readonly body: Readable | Uint8Array | null;
  /** Aborts the upstream request (the client left and nobody needs the answer). */
  readonly signal?: AbortSignal;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly statusText: string;
  /** End-to-end headers, in order; repeated headers (e.g. `set-cookie`) repeated. */
  readonly headers: [string, string][];
  /** The body as it arrives; it must be read to its end or destroyed. */
  readonly body: Readable;
}

/** Why the upstream gave no answer: `timeout` → 504, `unreachable` → 502. */
export type UpstreamFailure = 'timeout' | 'unreachable';

/** The upstream could not be reached or did not answer in time. Internal to the gateway. */
export class UpstreamError extends Error {
  readonly code: 'UPSTREAM_TIMEOUT' | 'UPSTREAM_UNREACHABLE';
  constructor(
    readonly kind: UpstreamFailure,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'UpstreamError';
    this.code = kind === 'timeout' ? 'UPSTREAM_TIMEOUT' : 'UPSTREAM_UNREACHABLE';
  }
}

export interface UpstreamOptions {
  /** Time allowed for the upstream to start answering (and between two body chunks). */
  readonly timeoutMs: number;
  /** Most connections to the upstream at once; default unlimited. */
  readonly connections?: number;
}

const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT']);

/** Parse and check an upstream URL: `http:` or `https:`, no credentials, query or fragment. */
export function parseUpstreamUrl(value: string | URL, option = 'upstream'): URL {
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw new InvalidOptionError(option, `expected an absolute http:// or https:// URL, got ${JSON.stringify(String(value))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new InvalidOptionError(option, `expected an http:// or https:// URL, got ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') throw new InvalidOptionError(option, 'must not contain credentials');
  if (url.search !== '' || url.hash !== '') throw new InvalidOptionError(option, 'must not contain a query or a fragment');
  return url;
}

export class Upstream {
  readonly url: URL;
  /** `http://host:port`, what the pool connects to. */
  readonly origin: string;
  /** The upstream URL's path without its trailing slash, prefixed to every request-target. */
  readonly basePath: string;
  readonly #pool: Pool;
  readonly #timeoutMs: number;

  constructor(url: string | URL, options: UpstreamOptions) {
    this.url = parseUpstreamUrl(url);
    this.origin = this.url.origin;
    this.basePath = this.url.pathname.replace(/\/+$/, '');
    this.#timeoutMs = options.timeoutMs;
    this.#pool = new Pool(this.origin, {
      connections: options.connections ?? null,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connectTimeout: Math.min(options.timeoutMs, 10_000),
    });
  }

  /**
   * The request-target to send upstream for the client's: its path and query as sent (never
   * normalised), behind the upstream's base path. An absolute-form target keeps only its path.
   */
  target(requestTarget: string | undefined): string {
    let path = requestTarget ?? '/';
    if (!path.startsWith('/')) {
      try {
        const url = new URL(path);
        path = `${url.pathname}${url.search}`;
      } catch {
        path = '/'; // `*` (OPTIONS *) or garbage: the upstream's root
      }
    }
    return `${this.basePath}${path}`;
  }

  /** Send one request; resolves once the upstream's status and headers arrived. */
  async send(request: UpstreamRequest): Promise<UpstreamResponse> {
    let data: Dispatcher.ResponseData;
    try {
      data = await this.#pool.request({
        method: request.method as Dispatcher.HttpMethod,
        path: request.path,
        headers: request.headers,
        body: request.body,
        ...(request.signal ? { signal: request.signal } : {}),
      });
    } catch (error) {
      throw this.#failure(error);
    }
    return {
      status: data.statusCode,
      statusText: data.statusText ?? '',
      headers: upstreamResponseHeaders(data.headers),
      body: data.body,
    };
  }

  #failure(error: unknown): UpstreamError {
    const code = (error as { code?: unknown } | null)?.code;
    const detail = error instanceof Error ? error.message : String(error);
    if (typeof code === 'string' && TIMEOUT_CODES.has(code)) {
      return new UpstreamError('timeout', `${this.origin} did not answer within ${this.#timeoutMs} ms (${code})`, { cause: error });
    }
    return new UpstreamError(
      'unreachable',
      `${this.origin} could not be reached: ${typeof code === 'string' ? `${code}: ` : ''}${detail}`,
      { cause: error },
    );
  }

  /** Close idle connections and wait for running requests; `destroy` cuts them. */
  async close(destroy = false): Promise<void> {
    await (destroy ? this.#pool.destroy() : this.#pool.close());
  }
}

/** True for an {@link UpstreamError}. */
export const isUpstreamError = (e: unknown): e is UpstreamError => e instanceof UpstreamError;
