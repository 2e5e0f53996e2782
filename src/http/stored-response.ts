/**
 * What is kept of a response so that a retry can get it back: status, allow-listed headers and
 * the exact body bytes (base64, so binary bodies survive), as a JSON value the engine stores.
 * Only allow-listed headers are stored at all, so cookies and credentials never rest in the store.
 */
import { InvalidOptionError } from '../core/errors/invalid-option.js';

/** Headers replayed by default: those that describe the representation or point at the result. */
export const DEFAULT_REPLAY_HEADERS: readonly string[] = [
  'content-type',
  'content-language',
  'content-encoding',
  'content-location',
  'content-disposition',
  'location',
  'etag',
  'last-modified',
  'cache-control',
  'expires',
  'vary',
  'link',
];

/** Never replayed, whatever the options say: state or credentials of the first caller, or framing. */
const NEVER_REPLAYED = new Set([
  'set-cookie',
  'set-cookie2',
  'cookie',
  'authorization',
  'proxy-authorization',
  'www-authenticate',
  'proxy-authenticate',
  'authentication-info',
  'proxy-authentication-info',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'content-length',
  'trailer',
  'upgrade',
  'idempotent-replayed',
]);

/** The replay allow-list, lower-cased; throws when it names a header that must never be replayed. */
export function replayHeaderSet(option: string, names: readonly string[] = DEFAULT_REPLAY_HEADERS): ReadonlySet<string> {
  if (!Array.isArray(names)) throw new InvalidOptionError(option, 'expected an array of header names');
  const set = new Set<string>();
  for (const name of names) {
    if (typeof name !== 'string' || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name)) {
      throw new InvalidOptionError(option, `${JSON.stringify(name)} is not a header name`);
    }
    const lower = name.toLowerCase();
    if (NEVER_REPLAYED.has(lower))
      throw new InvalidOptionError(option, `${name} is never replayed (it carries the first caller's state, credentials or framing)`);
    set.add(lower);
  }
  return set;
}

/** A response kept for replay. */
export interface StoredResponse {
  readonly kind: 'response';
  readonly status: number;
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
}

/** The request ran, but its response exceeded the limit: retries get a problem, never a rerun. */
export interface TooLargeResponse {
  readonly kind: 'too_large';
  readonly status: number;
  readonly limit: number;
}

export type HttpOutcome = StoredResponse | TooLargeResponse;

/** The allow-listed headers of `headers`, in a stable order. */
export function pickHeaders(headers: Headers, allow: ReadonlySet<string>): [string, string][] {
  const picked: [string, string][] = [];
  for (const [name, value] of headers) if (allow.has(name)) picked.push([name, value]);
  return picked;
}

/** The outcome as the JSON value the engine stores (its codec turns it into the record's text). */
export interface StoredValue {
  readonly v: 1;
  readonly kind: 'response' | 'too_large';
  readonly status: number;
  readonly headers?: readonly (readonly [string, string])[];
  /** Base64 of the body bytes. */
  readonly body?: string;
  readonly limit?: number;
}

export function toStoredValue(outcome: HttpOutcome): StoredValue {
  if (outcome.kind === 'too_large') return { v: 1, kind: 'too_large', status: outcome.status, limit: outcome.limit };
  const { body } = outcome;
  return {
    v: 1,
    kind: 'response',
    status: outcome.status,
    headers: outcome.headers,
    body: Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64'),
  };
}

/** Thrown when a stored outcome was not written by this module (e.g. another layer used the scope). */
export class NotAnHttpOutcomeError extends Error {
  constructor(detail: string) {
    super(`the stored outcome is not an HTTP response: ${detail}`);
    this.name = 'NotAnHttpOutcomeError';
  }
}

/** The outcome {@link toStoredValue} was given. */
export function fromStoredValue(value: unknown): HttpOutcome {
  const v = value as Partial<StoredValue> | null;
  if (v === null || typeof v !== 'object' || v.v !== 1 || typeof v.status !== 'number') throw new NotAnHttpOutcomeError('unknown shape');
  if (v.kind === 'too_large' && typeof v.limit === 'number') return { kind: 'too_large', status: v.status, limit: v.limit };
  if (v.kind === 'response' && typeof v.body === 'string' && Array.isArray(v.headers)) {
    const headers = v.headers as unknown[];
    if (!headers.every((h) => Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string')) {
      throw new NotAnHttpOutcomeError('bad headers');
    }
    const bytes = Buffer.from(v.body, 'base64');
    return {
      kind: 'response',
      status: v.status,
      headers: headers as [string, string][],
      body: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    };
  }
  throw new NotAnHttpOutcomeError('unknown kind');
}

const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** The replay of a stored response: same status, headers and bytes, marked `Idempotent-Replayed: true`. */
export function replayResponse(stored: StoredResponse): Response {
  const headers = new Headers(stored.headers as [string, string][]);
  headers.set('idempotent-replayed', 'true');
  const nullBody = NULL_BODY_STATUSES.has(stored.status);
  if (!nullBody) headers.set('content-length', String(stored.body.byteLength));
  return new Response(nullBody ? null : stored.body, { status: stored.status, headers });
}
