/** Hex SHA-256, the one hash of the request path (fingerprints, scopes). */
import * as crypto from 'node:crypto';

// One-shot hashing (Node >= 20.12) skips the Hash object of createHash/update/digest.
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;

/** Hex SHA-256 of `data` (a string is hashed as its UTF-8). */
export function sha256Hex(data: string | Uint8Array): string {
  return oneShot !== undefined ? oneShot('sha256', data, 'hex') : crypto.createHash('sha256').update(data).digest('hex');
}
