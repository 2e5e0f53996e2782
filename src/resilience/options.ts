import { InvalidOptionError } from '../core/errors/invalid-option.js';

export { assertKnownOptions, positiveInt } from '../core/options.js';

/** A finite number >= 0 (a duration in ms that may be zero), or throw naming the option. */
export function nonNegative(context: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new InvalidOptionError(context, `expected a finite number >= 0, got ${String(value)}`);
  }
  return value;
}

/** A finite number > 0, or throw naming the option. */
export function positive(context: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(context, `expected a finite number > 0, got ${String(value)}`);
  }
  return value;
}

/** A positive integer or `Infinity` (an explicit opt-in to unbounded attempts). */
export function positiveIntOrInfinity(context: string, value: unknown): number {
  if (value === Infinity) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidOptionError(context, `expected a positive integer or Infinity, got ${String(value)}`);
  }
  return value;
}

/** A fraction in (0, 1]. */
export function fraction(context: string, value: unknown): number {
  if (typeof value !== 'number' || !(value > 0 && value <= 1)) {
    throw new InvalidOptionError(context, `expected a number in (0, 1], got ${String(value)}`);
  }
  return value;
}

export function oneOf<T extends string>(context: string, value: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new InvalidOptionError(context, `expected one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  return value as T;
}

export function func<F extends (...args: never[]) => unknown>(context: string, value: unknown): F {
  if (typeof value !== 'function') throw new InvalidOptionError(context, `expected a function, got ${typeof value}`);
  return value as F;
}

/** Apply `check` when the option is present, else return the default. */
export function optional<T>(value: unknown, fallback: T, check: (value: unknown) => T): T {
  return value === undefined ? fallback : check(value);
}

/** A {@link Clock}-shaped object, or throw naming the option. */
export function clockOption<C>(context: string, value: unknown): C {
  const clock = value as Record<string, unknown> | null;
  if (
    typeof clock !== 'object' ||
    clock === null ||
    typeof clock.now !== 'function' ||
    typeof clock.setTimeout !== 'function' ||
    typeof clock.clearTimeout !== 'function'
  ) {
    throw new InvalidOptionError(context, 'expected a clock with now(), setTimeout() and clearTimeout()');
  }
  return value as C;
}

/** An object with the given methods, or throw naming the option; `kind` says what is expected. */
export function withMethods<T>(context: string, value: unknown, methods: readonly string[], kind = 'an object'): T {
  const object = value as Record<string, unknown> | null;
  const missing = typeof object !== 'object' || object === null ? methods : methods.filter((m) => typeof object[m] !== 'function');
  if (missing.length > 0) throw new InvalidOptionError(context, `expected ${kind} with ${missing.join(', ')}()`);
  return value as T;
}

/** A non-empty string, or throw naming the option. */
export function nonEmptyString(context: string, value: unknown): string {
  if (typeof value !== 'string' || value === '') throw new InvalidOptionError(context, 'expected a non-empty string');
  return value;
}

/** A safe integer >= 0, or throw naming the option. */
export function nonNegativeInt(context: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidOptionError(context, `expected an integer >= 0, got ${String(value)}`);
  }
  return value;
}
