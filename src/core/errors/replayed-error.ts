import { OncekeyError } from './oncekey-error.js';
import type { KeyRef } from '../ref.js';

/** What is kept of an error that `cacheErrors` declared final: enough to handle it, no stack. */
export interface StoredError {
  readonly name: string;
  readonly message: string;
  /** The original error's `code` property, when it was a string or a number. */
  readonly code?: string | number;
}

/**
 * A replay of an error that an earlier call threw and `cacheErrors` declared final. The first
 * caller got the original error; every later caller with the same key gets this one, so a replay
 * is always distinguishable from a fresh failure. `message` is the original message;
 * `original` keeps its `name` and `code`.
 */
export class ReplayedError extends OncekeyError {
  readonly code = 'REPLAYED_ERROR' as const;
  constructor(
    readonly ref: KeyRef,
    readonly original: StoredError,
  ) {
    super(original.message);
  }
}

export const isReplayedError = (e: unknown): e is ReplayedError => e instanceof ReplayedError;
