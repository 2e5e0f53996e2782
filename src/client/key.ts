/**
 * The `Idempotency-Key` header value. The IETF draft makes it a Structured Field string
 * (`"0190d7a4-…"`); Stripe-style APIs take the bare key. Either way the same key goes on every
 * retry of one call.
 */
import { InvalidKeyError } from '../core/errors/invalid-key.js';
// The limit and the bare-key syntax that the server side's header parser applies.
import { BARE_KEY, MAX_KEY_LENGTH } from '../core/ref.js';

const PRINTABLE = /^[\x20-\x7e]+$/; // what an sf-string may hold

/** The header value for `key`; throws InvalidKeyError for a key no server could read back. */
export function keyHeaderValue(key: string, quoted: boolean): string {
  if (typeof key !== 'string' || key.length === 0) throw new InvalidKeyError('the key is empty');
  if (key.length > MAX_KEY_LENGTH) throw new InvalidKeyError(`${key.length} characters, at most ${MAX_KEY_LENGTH}`);
  if (!quoted) {
    if (!BARE_KEY.test(key)) throw new InvalidKeyError('a bare key may hold visible ASCII only, without " and \\');
    return key;
  }
  if (!PRINTABLE.test(key)) throw new InvalidKeyError('a key may hold printable ASCII only');
  return `"${key.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
