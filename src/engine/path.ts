/** Paths such as `input.items[2].price` for error messages that point at the offending value. */

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function propertyPath(parent: string, key: string): string {
  return IDENTIFIER.test(key) ? `${parent}.${key}` : `${parent}[${JSON.stringify(key)}]`;
}

export function indexPath(parent: string, index: number): string {
  return `${parent}[${index}]`;
}

/**
 * The path of the value under `key` (an index, a property name, or none for the root): callers
 * carry a value's parent path and key, and build the string only for an error or a container.
 */
export function pathOf(parent: string, key: string | number | undefined): string {
  if (key === undefined) return parent;
  return typeof key === 'number' ? indexPath(parent, key) : propertyPath(parent, key);
}

/** A short name for what a non-plain object is, e.g. `a Map`, `an instance of Order`. */
export function describeObject(value: object): string {
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  if (typeof name !== 'string' || name === '') return 'an object with a custom prototype';
  if (name === 'Map' || name === 'Set' || name === 'WeakMap' || name === 'WeakSet') return `a ${name}`;
  return `an instance of ${name}`;
}

/** True for `{}` literals and `Object.create(null)`: the only objects that mean "JSON object". */
export function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
