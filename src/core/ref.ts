/** Validation of `(scope, key)` before anything reaches a store. */
import { InvalidKeyError } from './errors/invalid-key.js';
import type { KeyRef } from '../store/contract.js';
import { isWellFormed } from './text.js';

/** Longest idempotency key, in UTF-16 code units (Stripe's and the IETF draft's common limit). */
export const MAX_KEY_LENGTH = 255;
/** Longest scope, in UTF-16 code units. */
export const MAX_SCOPE_LENGTH = 1024;

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
