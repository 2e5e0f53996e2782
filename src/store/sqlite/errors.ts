import { OncekeyError } from '../../core/errors/oncekey-error.js';
import { StoreUnavailableError } from '../../core/errors/store-unavailable.js';

/**
 * The store never lets a driver error escape: SQLITE_BUSY after the busy timeout, I/O errors, a
 * full disk, a closed handle — all become {@link StoreUnavailableError} with the driver error as
 * `cause` (and its SQLite code in the message, for logs). Oncekey's own errors pass through.
 */
export function toStoreError(error: unknown): Error {
  if (error instanceof OncekeyError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError('sqlite', typeof code === 'string' ? `${code}: ${message}` : message, { cause: error });
}
