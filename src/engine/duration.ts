/**
 * Durations in options: a positive integer of milliseconds, or a string with a unit parsed by
 * `ms` — `'250ms'`, `'30s'`, `'5m'`, `'24h'`, `'7d'`. A bare numeric string such as `'30'` is
 * refused: it would mean 30 ms to the parser and 30 s to many readers.
 */
import ms from 'ms';
import { InvalidOptionError } from '../core/errors/invalid-option.js';

/** Milliseconds as a positive integer, or a string such as `'30s'`, `'5m'`, `'24h'`, `'7d'`. */
export type Duration = number | string;

/** The duration in milliseconds, or an {@link InvalidOptionError} naming `option`. */
export function toMs(option: string, value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value > 0) return value;
    throw new InvalidOptionError(option, `expected a positive integer of milliseconds or a string such as '30s', got ${value}`);
  }
  if (typeof value === 'string') {
    const text = value.trim();
    const parsed = /[a-z]$/i.test(text) ? ms(text) : undefined;
    if (parsed !== undefined && Number.isSafeInteger(parsed) && parsed > 0) return parsed;
    throw new InvalidOptionError(option, `expected a duration such as '250ms', '30s', '5m', '24h' or '7d', got ${JSON.stringify(value)}`);
  }
  throw new InvalidOptionError(
    option,
    `expected a duration (milliseconds or a string such as '30s'), got ${value === null ? 'null' : typeof value}`,
  );
}
