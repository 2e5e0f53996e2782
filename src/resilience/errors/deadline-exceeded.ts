import { OncekeyError } from '../../core/errors/oncekey-error.js';

/**
 * A deadline passed: a `timeout` policy fired, or the deadline handed down through `wrap(...)` or
 * `execute(fn, { deadline })` was reached. It is also the `reason` of the signal the task received.
 */
export class DeadlineExceededError extends OncekeyError {
  readonly code = 'DEADLINE_EXCEEDED' as const;
  constructor(
    /** The deadline, in milliseconds on the policy's clock. */
    readonly deadline: number,
    options?: ErrorOptions,
  ) {
    super(`deadline exceeded (at ${deadline} ms on the policy clock)`, options);
  }
}

export const isDeadlineExceededError = (e: unknown): e is DeadlineExceededError => e instanceof DeadlineExceededError;
