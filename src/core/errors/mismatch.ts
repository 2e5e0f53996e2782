import { OncekeyError } from './oncekey-error.js';
import type { KeyRef } from '../ref.js';

/** The idempotency key was already used with a different input (fingerprint). Nothing ran. */
export class FingerprintMismatchError extends OncekeyError {
  readonly code = 'FINGERPRINT_MISMATCH' as const;
  constructor(readonly ref: KeyRef) {
    super(`${ref.scope}/${ref.key} was already used with a different input`);
  }
}

export const isFingerprintMismatchError = (e: unknown): e is FingerprintMismatchError => e instanceof FingerprintMismatchError;
