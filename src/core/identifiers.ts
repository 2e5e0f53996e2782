import { InvalidOptionError } from './errors/invalid-option.js';

// Plain identifiers only: no quoting tricks, no case surprises. 48 characters leaves room for
// the suffixes of derived names (`<table>_expires_at_idx`) inside PostgreSQL's 63-byte limit.
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,47}$/;

/** Validate a schema or table name given as an option; returns it unchanged. */
export function identifier(option: string, value: unknown): string {
  if (typeof value !== 'string' || !IDENTIFIER.test(value)) {
    throw new InvalidOptionError(
      option,
      `expected a lower-case SQL identifier (letters, digits, _; at most 48 characters), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** Double-quote an identifier that {@link identifier} accepted. */
export const quote = (name: string): string => `"${name}"`;
