import { OncekeyError } from './oncekey-error.js';
import type { KeyRef } from '../ref.js';

/** Another caller holds a live lease on the key; retry after `retryAfterMs`. */
export class InProgressError extends OncekeyError {
  readonly code = 'IN_PROGRESS' as const;
  constructor(
    readonly ref: KeyRef,
    readonly retryAfterMs: number,
  ) {
    super(`${ref.scope}/${ref.key} is in progress elsewhere; retry after ${retryAfterMs} ms`);
  }
}

export const isInProgressError = (e: unknown): e is InProgressError => e instanceof InProgressError;
