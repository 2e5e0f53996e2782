/**
 * What identifies an HTTP request for its fingerprint: method, path, query and a canonical form
 * of the body, so a key reused for a different request is a 422 instead of a wrong replay. The
 * engine hashes this value (SHA-256 of its RFC 8785 form). JSON bodies count by meaning (key order
 * and number spelling do not matter); any other body counts by its exact bytes.
 */
import { canonicalize } from '../engine/canonical.js';
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { sha256Hex } from '../core/hash.js';
import { assertKnownOptions } from '../core/options.js';

/** Which parts of a request make its fingerprint. */
export interface FingerprintParts {
  /** Default true. */
  readonly method?: boolean;
  /** The URL path; default true. */
  readonly path?: boolean;
  /** The URL query string, as sent; default true. */
  readonly query?: boolean;
  /** The body; default true. */
  readonly body?: boolean;
  /**
   * Fields of a JSON body that do not count, as dotted paths (`'timestamp'`, `'meta.sentAt'`),
   * e.g. a client timestamp that changes on every retry.
   */
  readonly ignoreFields?: readonly string[];
  /** Request headers that count (e.g. `'content-type'`); default none. */
  readonly headers?: readonly string[];
}

/**
 * A custom fingerprint: return any JSON-like value (or bytes) that identifies the request; the
 * engine hashes it. It replaces every default part, method and path included.
 */
export type FingerprintFunction = (request: Request, body: Uint8Array) => unknown;

export type FingerprintOption = FingerprintParts | FingerprintFunction;

/**
 * The function giving a request's fingerprint input (the value the engine hashes), validated now
 * so a typo in the options fails at construction.
 */
export function requestFingerprinter(
  option: FingerprintOption | undefined,
  name = 'fingerprint',
): (request: Request, body: Uint8Array) => Promise<unknown> {
  if (typeof option === 'function') return async (request, body) => option(request, body);
  assertKnownOptions(name, option, ['method', 'path', 'query', 'body', 'ignoreFields', 'headers']);
  const parts = option ?? {};
  for (const flag of ['method', 'path', 'query', 'body'] as const) {
    if (parts[flag] !== undefined && typeof parts[flag] !== 'boolean')
      throw new InvalidOptionError(`${name}.${flag}`, 'expected a boolean');
  }
  if (parts.ignoreFields !== undefined && !Array.isArray(parts.ignoreFields)) {
    throw new InvalidOptionError(`${name}.ignoreFields`, 'expected an array of strings');
  }
  if (parts.headers !== undefined && (!Array.isArray(parts.headers) || parts.headers.some((v) => typeof v !== 'string'))) {
    throw new InvalidOptionError(`${name}.headers`, 'expected an array of strings');
  }
  const ignore = (parts.ignoreFields ?? []).map((field, i) => {
    if (typeof field !== 'string' || field === '' || field.split('.').includes('')) {
      throw new InvalidOptionError(
        `${name}.ignoreFields[${i}]`,
        `expected a dotted field path such as 'meta.sentAt', got ${JSON.stringify(field)}`,
      );
    }
    return field.split('.');
  });
  const headers = (parts.headers ?? []).map((h) => h.toLowerCase());
  const use = (flag: boolean | undefined): boolean => flag !== false;

  return async (request, body) => {
    const url = new URL(request.url);
    const input: Record<string, unknown> = {};
    if (use(parts.method)) input.method = request.method.toUpperCase();
    if (use(parts.path)) input.path = url.pathname;
    if (use(parts.query)) input.query = url.search;
    if (headers.length > 0) input.headers = Object.fromEntries(headers.map((h) => [h, request.headers.get(h)]));
    if (use(parts.body)) input.body = bodyPart(request.headers.get('content-type'), body, ignore);
    return input;
  };
}

function bodyPart(contentType: string | null, body: Uint8Array, ignore: readonly string[][]): unknown {
  if (body.byteLength === 0) return { empty: true };
  if (isJson(contentType)) {
    const json = parseJson(body);
    if (json !== undefined) {
      const value = ignore.length > 0 ? withoutFields(json.value, ignore) : json.value;
      try {
        // Hash the canonical text rather than nesting the value, so the value's size does not
        // matter to the outer canonicalization and the part is easy to reproduce elsewhere.
        return { json: sha256Hex(canonicalize(value, 'body')) };
      } catch {
        // Not canonicalizable (a lone surrogate escape): its bytes still identify it.
      }
    }
  }
  return { bytes: sha256Hex(body) };
}

function isJson(contentType: string | null): boolean {
  if (contentType === null) return false;
  const media = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return media === 'application/json' || media.endsWith('+json');
}

function parseJson(body: Uint8Array): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body)) };
  } catch {
    return undefined;
  }
}

/** A copy of `value` without the fields at `paths`; the original is never modified. */
function withoutFields(value: unknown, paths: readonly string[][]): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const here = new Set(paths.filter((p) => p.length === 1).map((p) => p[0]!));
  // Null prototype: a `__proto__` field from JSON.parse stays an ordinary field.
  const out: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
  for (const [name, item] of Object.entries(value)) {
    if (here.has(name)) continue;
    const deeper = paths.filter((p) => p.length > 1 && p[0] === name).map((p) => p.slice(1));
    out[name] = deeper.length > 0 ? withoutFields(item, deeper) : item;
  }
  return out;
}
