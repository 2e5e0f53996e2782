import { OncekeyError } from './oncekey-error.js';

/**
 * The store could not be reached or did not answer in time. The operation's outcome at the store
 * is unknown to the caller; Oncekey never runs the protected function after this error.
 */
export class StoreUnavailableError extends OncekeyError {
  readonly code = 'STORE_UNAVAILABLE' as const;
  constructor(
    readonly store: string,
    detail: string,
    options?: ErrorOptions,
  ) {
    super(`store ${store} unavailable: ${detail}`, options);
  }
}

export const isStoreUnavailableError = (e: unknown): e is StoreUnavailableError => e instanceof StoreUnavailableError;
