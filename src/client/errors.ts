import { FingerprintMismatchError } from '../core/errors/mismatch.js';
import { UnsupportedInputError } from '../core/errors/unsupported-input.js';

/** An RFC 9457 problem document as a server sent it (members are not checked). */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly detail?: string;
  readonly [member: string]: unknown;
}

/**
 * The server answered 422: this Idempotency-Key was already used for a different request (another
 * method, path or body). Nothing ran, and a retry cannot help: it is a bug in the caller, which
 * reused a key for a new operation (or changed the body between retries). Same `code` as the
 * engine's {@link FingerprintMismatchError}, of which it is a kind.
 */
export class IdempotencyKeyReusedError extends FingerprintMismatchError {
  constructor(
    readonly method: string,
    readonly url: string,
    readonly key: string,
    /** The server's problem document. */
    readonly problem: Problem,
    readonly status: number,
  ) {
    super({ scope: `${method} ${url}`, key });
    const why = typeof problem.detail === 'string' ? `: ${problem.detail}` : '';
    this.message = `${method} ${url}: the server refused Idempotency-Key ${key}, already used for a different request${why}`;
  }
}

export const isIdempotencyKeyReusedError = (e: unknown): e is IdempotencyKeyReusedError => e instanceof IdempotencyKeyReusedError;

/**
 * A request body longer than `maxBodyBytes`, in a call that may be retried: such a call's body is
 * read into memory first (whatever its kind) so each retry sends the same bytes, and this one is
 * too large for that; nothing was sent. Raise `maxBodyBytes`, or send that call with
 * `retry: false` (then the body is passed through unbuffered and the call is not retried).
 */
export class RequestBodyTooLargeError extends UnsupportedInputError {
  constructor(readonly limit: number) {
    super('request body', `over ${limit} bytes`);
    this.message =
      `the request body is over maxBodyBytes (${limit} bytes), so it cannot be kept to send again on a retry; ` +
      'raise maxBodyBytes, or pass { retry: false } for this call';
  }
}

export const isRequestBodyTooLargeError = (e: unknown): e is RequestBodyTooLargeError => e instanceof RequestBodyTooLargeError;
