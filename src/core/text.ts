/** Small text checks shared by the engine and the stores. */

/**
 * False for strings holding a lone UTF-16 surrogate, which no UTF-8 encoder can represent
 * faithfully (encoding would silently turn it into U+FFFD).
 */
export function isWellFormed(value: string): boolean {
  // String.prototype.isWellFormed is in Node 20 but not in the ES2023 lib typings.
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}
