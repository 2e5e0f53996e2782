import { describe, expect, it } from 'vitest';
import { seededRandom } from '../core/random.js';
import { keyHeaderValue } from './key.js';
import { randomBytesFrom, uuidv7 } from './uuid7.js';

describe('uuidv7 (RFC 9562 §5.7)', () => {
  it('puts the millisecond timestamp in the first 48 bits, version 7 and variant 10 where they belong', () => {
    const id = uuidv7(0x0190_d7a4_1234, () => {});
    expect(id).toBe('0190d7a4-1234-7000-8000-000000000000');
    const random = uuidv7(Date.UTC(2025, 0, 1), (b) => b.fill(0xff));
    expect(random).toBe(
      `${Date.UTC(2025, 0, 1)
        .toString(16)
        .padStart(12, '0')
        .replace(/^(.{8})/, '$1-')}-7fff-bfff-ffffffffffff`,
    );
  });

  it('is reproducible with an injected random source, and different from call to call', () => {
    const a = randomBytesFrom(seededRandom(1));
    const b = randomBytesFrom(seededRandom(1));
    const first = uuidv7(1000, a);
    expect(first).toBe(uuidv7(1000, b));
    expect(uuidv7(1000, a)).not.toBe(first);
  });

  it('sorts by time as a string', () => {
    const ids = [5, 1_000, 1_700_000_000_000, 2 ** 47].map((t) => uuidv7(t));
    expect([...ids].sort()).toEqual(ids);
  });

  it('uses Web Crypto by default: 74 random bits differ between two ids of the same millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => uuidv7(42)));
    expect(ids.size).toBe(1000);
  });
});

describe('keyHeaderValue', () => {
  it('quotes and escapes for the draft, or sends the key bare', () => {
    expect(keyHeaderValue('a"b\\c d', true)).toBe('"a\\"b\\\\c d"');
    expect(keyHeaderValue('abc', false)).toBe('abc');
    expect(() => keyHeaderValue('', true)).toThrow(/empty/);
    expect(() => keyHeaderValue('é', true)).toThrow(/ASCII/);
    expect(() => keyHeaderValue('a b', false)).toThrow(/bare/);
  });
});
