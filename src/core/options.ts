import { InvalidOptionError } from './errors/invalid-option.js';

/**
 * Reject options the caller misspelled or that this version does not know, so a typo such as
 * `{ ttl: '1h', leese: '5s' }` fails at construction instead of silently using a default.
 */
export function assertKnownOptions(context: string, options: object | undefined, known: readonly string[]): void {
  if (options === undefined) return;
  if (options === null || typeof options !== 'object') {
    throw new InvalidOptionError(context, `expected an options object, got ${options === null ? 'null' : typeof options}`);
  }
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new InvalidOptionError(`${context}.${name}`, `unknown option (known: ${known.join(', ')})`);
    }
  }
}

/** A positive integer number of milliseconds, or throw naming the option. */
export function positiveInt(context: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionError(context, `expected a positive integer, got ${String(value)}`);
  }
  return value;
}
