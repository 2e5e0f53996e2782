import { InvalidOptionError } from '../core/errors/invalid-option.js';

/**
 * The opaque `list` cursor every store hands out: the last key of a page, so the next page starts
 * after it (keyset paging). Encoded so callers treat it as a token, not as a key to edit.
 */
export function encodeCursor(key: string): string {
  return Buffer.from(JSON.stringify([key]), 'utf8').toString('base64url');
}

/** The key a cursor from {@link encodeCursor} stands for. @throws InvalidOptionError on anything else. */
export function decodeCursor(cursor: unknown): string {
  if (typeof cursor === 'string') {
    try {
      const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      if (Array.isArray(value) && value.length === 1 && typeof value[0] === 'string') return value[0];
    } catch {
      // fall through to the error below
    }
  }
  throw new InvalidOptionError('list.cursor', 'not a cursor returned by this store');
}
