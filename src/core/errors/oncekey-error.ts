/** Stable machine-readable codes of every error Oncekey throws. */
export type OncekeyErrorCode =
  | 'LEASE_LOST'
  | 'IN_PROGRESS'
  | 'FINGERPRINT_MISMATCH'
  | 'STORE_UNAVAILABLE'
  | 'STORE_FULL'
  | 'INVALID_OPTION'
  | 'INVALID_KEY'
  | 'UNSUPPORTED_INPUT'
  | 'UNSERIALIZABLE_RESULT'
  | 'REPLAYED_ERROR'
  | 'CIRCUIT_OPEN'
  | 'CIRCUIT_ISOLATED'
  | 'BULKHEAD_REJECTED'
  | 'DEADLINE_EXCEEDED';

/** Base class of every Oncekey error: `code` is stable across versions, `message` is for people. */
export abstract class OncekeyError extends Error {
  abstract readonly code: OncekeyErrorCode;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** True for any error thrown by Oncekey. */
export const isOncekeyError = (e: unknown): e is OncekeyError => e instanceof OncekeyError;
