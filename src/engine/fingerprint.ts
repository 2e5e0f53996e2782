/**
 * Fingerprints: hex SHA-256 identifying an input, so a key reused with a different input is a
 * mismatch instead of a wrong replay.
 *
 * - A JSON-like value is hashed as the UTF-8 of its RFC 8785 canonical form
 *   ({@link canonicalize}): `fingerprint(x) === sha256hex(canonicalize(x))`, which any other
 *   JCS implementation can reproduce.
 * - A top-level `Uint8Array` (or `Buffer`) is hashed as raw bytes in a separate domain: the hashed
 *   bytes start with a NUL, which canonical JSON never contains, so `Buffer.from('"a"')` and the
 *   string `"a"` have different fingerprints. Binary data nested in a value is rejected.
 */
import { createHash } from 'node:crypto';
import { sha256Hex } from '../core/hash.js';
import { canonicalize } from './canonical.js';

const BYTES_DOMAIN = Buffer.from('\0oncekey-bytes\0', 'latin1');

/** Hex SHA-256 of `value`'s canonical form (or of its bytes, for a top-level Uint8Array). */
export function fingerprint(value: unknown, root = 'input'): string {
  if (value instanceof Uint8Array) return createHash('sha256').update(BYTES_DOMAIN).update(value).digest('hex');
  return sha256Hex(canonicalize(value, root));
}
