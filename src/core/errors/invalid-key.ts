import { OncekeyError } from './oncekey-error.js';

/** An idempotency key or scope is empty, too long or has characters that are not allowed. */
export class InvalidKeyError extends OncekeyError {
  readonly code = 'INVALID_KEY' as const;
  constructor(detail: string) {
    super(`invalid idempotency key: ${detail}`);
  }
}

export const isInvalidKeyError = (e: unknown): e is InvalidKeyError => e instanceof InvalidKeyError;
