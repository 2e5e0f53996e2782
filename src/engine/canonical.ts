/**
 * Canonical JSON (RFC 8785, JCS) of a value, the input of every fingerprint.
 *
 * Two values that mean the same JSON give the same text: object keys are sorted by UTF-16 code
 * units, numbers are written as ECMAScript writes them (`1e+21`, `1e-7`, `-0` → `0`), strings are
 * escaped as `JSON.stringify` escapes them. Values that JSON would silently change or drop are
 * rejected instead, so two different inputs can never share a fingerprint by accident:
 *
 * - an object property whose value is `undefined` is omitted (JSON's rule, so `{a: 1, b: undefined}`
 *   and `{a: 1}` are the same input); `undefined` anywhere else (top level, array element, hole)
 *   is rejected;
 * - rejected: NaN, ±Infinity, BigInt, symbols, functions, Map, Set, class instances, binary data
 *   (typed arrays, ArrayBuffer), invalid Dates, strings or keys with a lone surrogate, cycles and
 *   enumerable symbol-keyed properties;
 * - an object with a `toJSON` method is replaced by what it returns (JSON's rule), applied once;
 *   so a valid `Date` becomes its ISO string and fingerprints like that string.
 *
 * Errors are {@link UnsupportedInputError}s naming the path, e.g. `input.items[2].price`.
 */
import { UnsupportedInputError } from '../core/errors/unsupported-input.js';
import { isWellFormed } from '../core/text.js';
import { describeObject, indexPath, isPlainObject, pathOf, propertyPath } from './path.js';

const PICK_FIELDS = 'or pick the fields that identify the request with the `fingerprint` option';

/** The RFC 8785 canonical JSON text of `value`; `root` names it in error paths. */
export function canonicalize(value: unknown, root = 'input'): string {
  return serialize(value, root, undefined, [], false);
}

// Error paths are built only when an error is thrown: a value is passed with its parent's path
// and its own key (undefined for the root), so a valid input costs no path strings for its
// leaves. `ancestors` is the stack of containers being serialized (for cycles); inputs are
// shallow, so a linear search beats hashing every object into a Set.
function serialize(value: unknown, parent: string, key: string | number | undefined, ancestors: object[], replaced: boolean): string {
  switch (typeof value) {
    case 'string':
      if (!isWellFormed(value))
        throw unsupported(pathOf(parent, key), 'the string holds a lone UTF-16 surrogate', 'fix the text or encode it as base64');
      return quote(value);
    case 'number':
      if (!Number.isFinite(value))
        throw unsupported(pathOf(parent, key), `${value} is not a JSON number`, 'use null, a finite number or a string');
      return String(value); // ECMAScript Number::toString is exactly RFC 8785's number form; -0 gives "0"
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      throw unsupported(pathOf(parent, key), 'undefined has no JSON form here', 'use null, or leave the property out of its object');
    case 'bigint':
      throw unsupported(pathOf(parent, key), 'a BigInt has no JSON form', 'convert it to a string with value.toString()');
    case 'symbol':
      throw unsupported(pathOf(parent, key), 'a symbol has no JSON form', 'use a string');
    case 'function':
      throw unsupported(pathOf(parent, key), 'a function has no JSON form', PICK_FIELDS);
  }
  if (value === null) return 'null';
  const object = value as object;
  if (isBinary(object)) {
    throw unsupported(
      pathOf(parent, key),
      `binary data (${describeObject(object).replace(/^an instance of /, '')}) has no JSON form`,
      "encode it as a base64 string with Buffer.from(bytes).toString('base64'), or fingerprint the bytes alone as a top-level Uint8Array",
    );
  }
  if (object instanceof Date && Number.isNaN(object.getTime())) {
    throw unsupported(pathOf(parent, key), 'the Date is invalid', 'pass a valid Date or null');
  }
  if (!replaced && typeof (object as { toJSON?: unknown }).toJSON === 'function') {
    const json = (object as { toJSON(key: string): unknown }).toJSON(key === undefined ? '' : String(key));
    return serialize(json, parent, key, ancestors, true);
  }
  const path = pathOf(parent, key);
  if (ancestors.includes(object)) throw unsupported(path, 'the value contains itself (a cycle)', PICK_FIELDS);
  ancestors.push(object);
  try {
    return Array.isArray(object) ? serializeArray(object, path, ancestors) : serializeObject(object, path, ancestors);
  } finally {
    ancestors.pop();
  }
}

function serializeArray(array: readonly unknown[], path: string, ancestors: object[]): string {
  let text = '[';
  for (let i = 0; i < array.length; i++) {
    if (!(i in array)) throw unsupported(indexPath(path, i), 'a hole in a sparse array has no JSON form', 'fill it with null');
    if (i > 0) text += ',';
    text += serialize(array[i], path, i, ancestors, false);
  }
  return `${text}]`;
}

function serializeObject(object: object, path: string, ancestors: object[]): string {
  if (!isPlainObject(object)) throw unsupported(path, `${describeObject(object)} has no JSON form`, suggestionFor(object));
  const symbols = Object.getOwnPropertySymbols(object);
  for (const symbol of symbols) {
    if (Object.prototype.propertyIsEnumerable.call(object, symbol)) {
      throw unsupported(path, `the symbol-keyed property ${String(symbol)} has no JSON form`, 'use a string key');
    }
  }
  const keys = sortKeys(Object.keys(object));
  let text = '{';
  for (const key of keys) {
    if (!isWellFormed(key)) throw unsupported(propertyPath(path, key), 'the property name holds a lone UTF-16 surrogate', 'fix the name');
    const item = (object as Record<string, unknown>)[key];
    if (item === undefined) continue; // JSON's rule: an undefined property is absent
    if (text.length > 1) text += ',';
    text += `${quote(key)}:${serialize(item, path, key, ancestors, false)}`;
  }
  return `${text}}`;
}

/** Sorted by UTF-16 code units, RFC 8785's order (as `sort()` and `<` compare strings). */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 16) return keys.sort();
  // Objects are small: an insertion sort beats the general sort several times over.
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

/** `JSON.stringify(text)`, skipping the call for text with nothing to escape (the usual case). */
function quote(text: string): string {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // Control characters, `"` and `\` are escaped; surrogates are left to JSON.stringify.
    if (c < 0x20 || c === 0x22 || c === 0x5c || c >= 0xd800) return JSON.stringify(text);
  }
  return `"${text}"`;
}

function isBinary(value: object): boolean {
  return (
    ArrayBuffer.isView(value) ||
    value instanceof ArrayBuffer ||
    (typeof SharedArrayBuffer !== 'undefined' && value instanceof SharedArrayBuffer)
  );
}

function suggestionFor(value: object): string {
  if (value instanceof Map) return `convert it with Object.fromEntries(map) or [...map], ${PICK_FIELDS}`;
  if (value instanceof Set) return `convert it with [...set], ${PICK_FIELDS}`;
  if (value instanceof String || value instanceof Number || value instanceof Boolean) return 'use the primitive value';
  return `give the class a toJSON() method, pass a plain object, ${PICK_FIELDS}`;
}

function unsupported(path: string, problem: string, fix: string): UnsupportedInputError {
  return new UnsupportedInputError(path, `${problem}; ${fix}`);
}
