import { OncekeyError } from './oncekey-error.js';

/**
 * The function's result cannot be stored and replayed faithfully by the codec. Raised at commit
 * time (the key is released, so a fixed retry may run), never as a corrupted replay later.
 */
export class UnserializableResultError extends OncekeyError {
  readonly code = 'UNSERIALIZABLE_RESULT' as const;
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(`result cannot be stored faithfully at ${path}: ${detail}`);
  }
}

export const isUnserializableResultError = (e: unknown): e is UnserializableResultError => e instanceof UnserializableResultError;
