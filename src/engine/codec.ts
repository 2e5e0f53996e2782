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
import { UnserializableResultError } from '../core/errors/unserializable-result.js';
import { describeObject, indexPath, isPlainObject, pathOf } from './path.js';

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
    assertJson(value, 'result', undefined, []);
    return JSON.stringify(value);
  },
  decode(text) {
    return text === UNDEFINED ? undefined : (JSON.parse(text) as unknown);
  },
};

// As in canonical.ts: a value travels with its parent's path and its key, and the path string is
// built only for an error or a container; `ancestors` is the stack of containers being checked.
function assertJson(value: unknown, parent: string, key: string | number | undefined, ancestors: object[]): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) throw fail(pathOf(parent, key), `${value} would be stored as null`);
      return;
    case 'undefined':
      throw fail(pathOf(parent, key), 'undefined inside a result would be dropped or stored as null; use null');
    case 'bigint':
      throw fail(pathOf(parent, key), 'a BigInt cannot be stored as JSON; return a string, or use a codec such as superjson');
    case 'symbol':
    case 'function':
      throw fail(pathOf(parent, key), `a ${typeof value} cannot be stored`);
  }
  if (value === null) return;
  const object = value as object;
  const path = pathOf(parent, key);
  if (value instanceof Date) {
    throw fail(path, 'a Date would be replayed as a string; return date.toISOString(), or use a codec such as superjson');
  }
  if (ancestors.includes(object)) throw fail(path, 'the result contains itself (a cycle)');
  ancestors.push(object);
  if (Array.isArray(object)) {
    for (let i = 0; i < object.length; i++) {
      if (!(i in object)) throw fail(indexPath(path, i), 'a hole in a sparse array would be replayed as null');
      assertJson(object[i], path, i, ancestors);
    }
  } else {
    if (!isPlainObject(object)) {
      throw fail(
        path,
        `${describeObject(object)} would be replayed as a plain object or lost; return plain data, or use a codec such as superjson`,
      );
    }
    for (const symbol of Object.getOwnPropertySymbols(object)) {
      if (Object.prototype.propertyIsEnumerable.call(object, symbol)) throw fail(path, 'a symbol-keyed property would be dropped');
    }
    for (const key of Object.keys(object)) {
      assertJson((object as Record<string, unknown>)[key], path, key, ancestors);
    }
  }
  ancestors.pop();
}

function fail(path: string, detail: string): UnserializableResultError {
  return new UnserializableResultError(path, detail);
}
