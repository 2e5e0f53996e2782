/**
 * How results are stored. A {@link Codec} turns a result into the text kept in the store and back.
 *
 * The default {@link jsonCodec} is strict: it stores only what JSON gives back identical — plain
 * objects, arrays, strings, finite numbers, booleans and null — and a top-level `undefined` (the
 * result of a void function). Anything that would come back different (a Date that would return
 * as a string, a Map as `{}`, `undefined` in an array as `null`, NaN as `null`, a class instance
 * without its prototype, …) is an {@link UnserializableResultError} naming the path, raised when the
 * result is committed, never discovered later as a corrupted replay. The one normalisation is
 * `-0`, stored as `0`: JSON has no negative zero, and rejecting it would turn ordinary arithmetic
 * into errors. For richer types bring a codec such as superjson:
 *
 * ```ts
 * import superjson from 'superjson';
 * const codec = { encode: (v: unknown) => superjson.stringify(v), decode: (s: string) => superjson.parse(s) };
 * ```
 */
import { UnserializableResultError } from '../errors/unserializable-result.js';
import { describeObject, indexPath, isPlainObject, propertyPath } from './path.js';

export interface Codec {
  /** Text to store for `value`; throw if it cannot be stored faithfully. */
  encode(value: unknown): string;
  /** The value `encode` was given. */
  decode(text: string): unknown;
}

/** The text that stands for a top-level `undefined`; no JSON text is empty. */
const UNDEFINED = '';

/** Strict JSON: round-trips exactly, or refuses. */
export const jsonCodec: Codec = {
  encode(value) {
    if (value === undefined) return UNDEFINED;
    assertJson(value, 'result', new Set());
    return JSON.stringify(value);
  },
  decode(text) {
    return text === UNDEFINED ? undefined : (JSON.parse(text) as unknown);
  },
};

function assertJson(value: unknown, path: string, ancestors: Set<object>): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw fail(path, `${value} would be stored as null`);
      return;
    case 'undefined':
      throw fail(path, 'undefined inside a result would be dropped or stored as null; use null');
    case 'bigint':
      throw fail(path, 'a BigInt cannot be stored as JSON; return a string, or use a codec such as superjson');
    case 'symbol':
    case 'function':
      throw fail(path, `a ${typeof value} cannot be stored`);
  }
  if (value === null) return;
  const object = value as object;
  if (value instanceof Date) {
    throw fail(path, 'a Date would be replayed as a string; return date.toISOString(), or use a codec such as superjson');
  }
  if (ancestors.has(object)) throw fail(path, 'the result contains itself (a cycle)');
  ancestors.add(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      const at = indexPath(path, i);
      if (!(i in object)) throw fail(at, 'a hole in a sparse array would be replayed as null');
      assertJson(object[i], at, ancestors);
    }
  } else {
    if (!isPlainObject(object)) {
      throw fail(path, `${describeObject(object)} would be replayed as a plain object or lost; return plain data, or use a codec such as superjson`);
    }
    if (Object.getOwnPropertySymbols(object).some((s) => Object.prototype.propertyIsEnumerable.call(object, s))) {
      throw fail(path, 'a symbol-keyed property would be dropped');
    }
    for (const key of Object.keys(object)) {
      assertJson((object as Record<string, unknown>)[key], propertyPath(path, key), ancestors);
    }
  }
  ancestors.delete(object);
}

function fail(path: string, detail: string): UnserializableResultError {
  return new UnserializableResultError(path, detail);
}
