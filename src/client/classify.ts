/**
 * What an attempt's outcome means for the retry and the circuit breaker. The statuses follow the
 * big API SDKs and the idempotency draft: retry what says "not processed, try again" (408, 429,
 * 502, 503, 504) and the draft's 409 "a request with this key is still running"; never another
 * 4xx, which a retry cannot fix.
 */
import { readWithin } from './body.js';
import type { Problem } from './errors.js';

/** Statuses retried on any request that may be repeated. */
export const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 502, 503, 504]);

// Socket-level codes of Node and undici, for fetch implementations that do not wrap them in a TypeError.
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/**
 * A failure to get any answer: the Fetch standard reports every network error as a `TypeError`
 * (undici: "fetch failed", the cause says which); other fetch implementations throw socket errors.
 * An abort by the caller is not one.
 */
export function isNetworkError(error: unknown): boolean {
  if (error instanceof TypeError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

export interface Inspection {
  /** Worth another attempt (when the call may be repeated at all). */
  readonly retryable: boolean;
  /** Counts against the origin's health in the circuit breaker. */
  readonly failure: boolean;
  /** Set when the server refused the key as reused for a different request (422). */
  readonly mismatch?: Problem;
}

const hasRetryAfter = (response: Response): boolean => response.headers.has('retry-after') || response.headers.has('retry-after-ms');

/** Matches the wording of idempotency conflicts: Oncekey's problem types, the draft's, Stripe's. */
const IN_FLIGHT = /key-in-use|in[- _]?progress|in[- _]?flight|concurrent/i;
const IDEMPOTENCY = /idempoten|fingerprint-mismatch/i;

/** Classify a response. `keyed`: the request carried an Idempotency-Key. */
export async function inspect(response: Response, keyed: boolean): Promise<Inspection> {
  const { status } = response;
  if (keyed && status === 409) {
    // The draft's answer to a key whose first request is still running: come back later.
    if (hasRetryAfter(response)) return { retryable: true, failure: false };
    const problem = await readProblem(response);
    return { retryable: problem !== undefined && IN_FLIGHT.test(text(problem)), failure: false };
  }
  if (keyed && status === 422) {
    const problem = await readProblem(response);
    if (problem !== undefined && IDEMPOTENCY.test(text(problem))) return { retryable: false, failure: false, mismatch: problem };
    return { retryable: false, failure: false };
  }
  if (RETRYABLE_STATUSES.has(status)) return { retryable: true, failure: true };
  return { retryable: false, failure: status >= 500 };
}

const text = (problem: Problem): string => [problem.type, problem.title, problem.detail].filter((v) => typeof v === 'string').join(' ');

/**
 * Problem documents are small; a JSON body larger than this is not one we read (by its
 * Content-Length, or while reading: a longer body is not read past the limit).
 */
const MAX_PROBLEM_BYTES = 64 * 1024;

/** The JSON object in a response's body, read from a clone so the caller still gets the body. */
async function readProblem(response: Response): Promise<Problem | undefined> {
  if (!/json/i.test(response.headers.get('content-type') ?? '')) return undefined;
  const length = Number(response.headers.get('content-length') ?? 0);
  if (!(length <= MAX_PROBLEM_BYTES) || response.body === null) return undefined;
  try {
    const bytes = await readWithin(response.clone().body!, MAX_PROBLEM_BYTES, undefined);
    if (bytes === undefined) return undefined;
    const value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Problem) : undefined;
  } catch {
    return undefined;
  }
}
