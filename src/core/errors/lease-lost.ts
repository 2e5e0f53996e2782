import { OncekeyError } from './oncekey-error.js';
import type { KeyRef } from '../ref.js';

/**
 * A fenced operation (`commit`, `release`, `extend`) used a token that is no longer current:
 * the lease was taken over, the record was released, deleted or expired.
 */
export class LeaseLostError extends OncekeyError {
  readonly code = 'LEASE_LOST' as const;
  constructor(
    readonly ref: KeyRef,
    detail = 'the token is no longer current',
  ) {
    super(`lease lost on ${ref.scope}/${ref.key}: ${detail}`);
  }
}

export const isLeaseLostError = (e: unknown): e is LeaseLostError => e instanceof LeaseLostError;
