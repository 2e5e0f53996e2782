/**
 * RFC 9457 problem documents (`application/problem+json`) for every answer the idempotency layer
 * gives on its own. Each kind has a stable `type` URI, so clients can branch on it instead of
 * parsing `detail`.
 */

export const PROBLEM_TYPE_BASE = 'https://oncekey.dev/problems/';

export type ProblemKind =
  'key-required' | 'key-malformed' | 'key-in-use' | 'fingerprint-mismatch' | 'body-too-large' | 'response-too-large' | 'store-unavailable';

const PROBLEMS: Readonly<Record<ProblemKind, { readonly status: number; readonly title: string }>> = {
  'key-required': { status: 400, title: 'Idempotency-Key header required' },
  'key-malformed': { status: 400, title: 'Malformed Idempotency-Key header' },
  'key-in-use': { status: 409, title: 'A request with this Idempotency-Key is in progress' },
  'fingerprint-mismatch': { status: 422, title: 'Idempotency-Key reused with a different request' },
  'body-too-large': { status: 413, title: 'Request body too large' },
  // 410: the request ran, its response will never be available again; retrying cannot help,
  // and a 4xx keeps retrying clients from looping on it.
  'response-too-large': { status: 410, title: 'Response too large to replay' },
  'store-unavailable': { status: 503, title: 'Idempotency store unavailable' },
};

export interface ProblemDocument {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly [extension: string]: unknown;
}

/** The problem document of `kind`; `extensions` add members such as `originalStatus`. */
export function problemDocument(kind: ProblemKind, detail: string, extensions: Record<string, unknown> = {}): ProblemDocument {
  const { status, title } = PROBLEMS[kind];
  return { ...extensions, type: `${PROBLEM_TYPE_BASE}${kind}`, title, status, detail };
}

/** The HTTP status a problem of `kind` is sent with. */
export const problemStatus = (kind: ProblemKind): number => PROBLEMS[kind].status;

export interface ProblemResponseInit {
  readonly headers?: Record<string, string>;
  readonly extensions?: Record<string, unknown>;
}

/** An `application/problem+json` response for `kind`. */
export function problemResponse(kind: ProblemKind, detail: string, init: ProblemResponseInit = {}): Response {
  const document = problemDocument(kind, detail, init.extensions);
  const headers = new Headers(init.headers);
  headers.set('content-type', 'application/problem+json');
  headers.set('cache-control', 'no-store');
  const body = JSON.stringify(document);
  headers.set('content-length', String(Buffer.byteLength(body)));
  return new Response(body, { status: document.status, headers });
}
