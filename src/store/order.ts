/** The order in which every store lists keys. */

/**
 * Order by Unicode code point, which is UTF-8 byte order: what SQLite, PostgreSQL (`COLLATE "C"`)
 * and Redis give, so every store lists in the same order. Plain `<` compares UTF-16 units and
 * would put U+10000.. (surrogate pairs) before U+E000..U+FFFF.
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit <= 0xdfff ? unit + 0x2000 : unit - 0x800;
}
