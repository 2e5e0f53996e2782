import { OncekeyError } from './oncekey-error.js';

/** A value cannot be fingerprinted without ambiguity (NaN, BigInt, a class instance, …). */
export class UnsupportedInputError extends OncekeyError {
  readonly code = 'UNSUPPORTED_INPUT' as const;
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`cannot fingerprint ${path}: ${detail}`);
  }
}

export const isUnsupportedInputError = (e: unknown): e is UnsupportedInputError => e instanceof UnsupportedInputError;
