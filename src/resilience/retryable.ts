import { isFingerprintMismatchError } from '../core/errors/mismatch.js';
import { isInvalidKeyError } from '../core/errors/invalid-key.js';
import { isInvalidOptionError } from '../core/errors/invalid-option.js';
import { isUnsupportedInputError } from '../core/errors/unsupported-input.js';
import { isBrokenCircuitError } from './errors/broken-circuit.js';
import { isBulkheadRejectedError } from './errors/bulkhead-rejected.js';
import { isIsolatedCircuitError } from './errors/isolated-circuit.js';

/**
 * The retry policy's default: retry any error except those that a retry cannot fix (caller bugs
 * such as a reused key with another input) or that exist to shed load (an open circuit, a full
 * bulkhead: retrying them multiplies the load they refuse). Opt back in with `isRetryable`.
 */
export function isRetryableByDefault(error: unknown): boolean {
  return !(
    isBrokenCircuitError(error) ||
    isIsolatedCircuitError(error) ||
    isBulkheadRejectedError(error) ||
    isFingerprintMismatchError(error) ||
    isInvalidKeyError(error) ||
    isInvalidOptionError(error) ||
    isUnsupportedInputError(error)
  );
}
