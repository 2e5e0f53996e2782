import { OncekeyError } from './oncekey-error.js';

/** An option passed to a constructor or factory is unknown or has a bad value. */
export class InvalidOptionError extends OncekeyError {
  readonly code = 'INVALID_OPTION' as const;
  constructor(
    readonly option: string,
    detail: string,
  ) {
    super(`invalid option ${option}: ${detail}`);
  }
}

export const isInvalidOptionError = (e: unknown): e is InvalidOptionError => e instanceof InvalidOptionError;
