/** What identifies a record, its limits, and their validation before anything reaches a store. */
import { InvalidKeyError } from './errors/invalid-key.js';
import { isWellFormed } from './text.js';

/** Identifies a record: who and what (`scope`) plus the client's idempotency key. */
export interface KeyRef {
  readonly scope: string;
  readonly key: string;
}

/** Longest idempotency key, in UTF-16 code units (Stripe's and the IETF draft's common limit). */
export const MAX_KEY_LENGTH = 255;
/** Longest scope, in UTF-16 code units. */
export const MAX_SCOPE_LENGTH = 1024;

/**
 * A key that may travel bare in an `Idempotency-Key` header (Stripe style): visible ASCII without
 * the characters that only make sense inside a Structured Field string. The middleware that reads
 * the header and the client that writes it share it.
 */
export const BARE_KEY = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/**
 * A frozen copy of `ref`, or {@link InvalidKeyError}: key and scope must be strings of
 * 1..255 and 1..1024 code units, without NUL or lone surrogates (which some stores cannot hold
 * and others would silently merge).
 */
export function validateRef(ref: unknown): KeyRef {
  if (ref === null || typeof ref !== 'object')
    throw new InvalidKeyError(`expected { scope, key }, got ${ref === null ? 'null' : typeof ref}`);
  const { scope, key } = ref as { scope?: unknown; key?: unknown };
  check('key', key, MAX_KEY_LENGTH);
  check('scope', scope, MAX_SCOPE_LENGTH);
  return Object.freeze({ scope: scope as string, key: key as string });
}

function check(name: string, value: unknown, max: number): void {
  if (typeof value !== 'string') throw new InvalidKeyError(`${name} must be a string, got ${value === null ? 'null' : typeof value}`);
  if (value.length === 0) throw new InvalidKeyError(`${name} is empty`);
  if (value.length > max) throw new InvalidKeyError(`${name} has ${value.length} characters, at most ${max} are allowed`);
  if (value.includes('\0')) throw new InvalidKeyError(`${name} contains a NUL character`);
  if (!isWellFormed(value)) throw new InvalidKeyError(`${name} contains a lone UTF-16 surrogate`);
}
