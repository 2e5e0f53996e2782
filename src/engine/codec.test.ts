import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnserializableResultError } from '../core/errors/unserializable-result.js';
import { jsonCodec } from './codec.js';

function rejected(value: unknown): UnserializableResultError {
  try {
    jsonCodec.encode(value);
  } catch (e) {
    expect(e).toBeInstanceOf(UnserializableResultError);
    return e as UnserializableResultError;
  }
  throw new Error('expected UnserializableResultError, nothing was thrown');
}

describe('jsonCodec', () => {
  it('property: JSON values come back identical (-0 aside)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual(JSON.parse(JSON.stringify(value)));
        expect(JSON.stringify(jsonCodec.decode(jsonCodec.encode(value)))).toBe(JSON.stringify(value));
      }),
      { numRuns: 300 },
    );
  });

  it('stores a top-level undefined (void functions) and gives it back', () => {
    const text = jsonCodec.encode(undefined);
    expect(jsonCodec.decode(text)).toBeUndefined();
    expect(jsonCodec.decode(jsonCodec.encode(null))).toBeNull();
    expect(jsonCodec.encode(null)).not.toBe(text);
  });

  it('keeps lone surrogates and odd keys', () => {
    const value = { 'a b': 'x\ud800', __proto__x: [1], nested: { '': true } };
    expect(jsonCodec.decode(jsonCodec.encode(value))).toEqual(value);
  });

  it('stores -0 as 0 (documented normalisation)', () => {
    expect(Object.is(jsonCodec.decode(jsonCodec.encode(-0)), 0)).toBe(true);
  });

  it.each([
    ['undefined in an object', { a: 1, b: undefined }, 'result.b'],
    ['undefined in an array', [1, undefined], 'result[1]'],
    ['a hole', [1, , 2], 'result[1]'] /* eslint-disable-line no-sparse-arrays -- a hole is the point */,
    ['NaN', { n: NaN }, 'result.n'],
    ['Infinity', { items: [{ price: Infinity }] }, 'result.items[0].price'],
    ['Date', { at: new Date(0) }, 'result.at'],
    ['Map', { m: new Map() }, 'result.m'],
    ['Set', new Set([1]), 'result'],
    ['BigInt', { n: 1n }, 'result.n'],
    [
      'class instance',
      {
        o: new (class Charge {
          id = 'ch_1';
        })(),
      },
      'result.o',
    ],
    ['function', { f: () => 1 }, 'result.f'],
    ['symbol', [Symbol('s')], 'result[0]'],
    ['symbol key', { [Symbol('k')]: 1 }, 'result'],
    ['Buffer', { b: Buffer.from('x') }, 'result.b'],
    ['an odd key', { 'a-b': { c: NaN } }, 'result["a-b"].c'],
  ])('rejects %s naming the path', (_name, value, path) => {
    const error = rejected(value);
    expect(error.path).toBe(path);
    expect(error.code).toBe('UNSERIALIZABLE_RESULT');
    expect(error.message).toContain(path);
  });

  it('rejects cycles', () => {
    const a: Record<string, unknown> = {};
    a.self = [a];
    expect(rejected(a).path).toBe('result.self[0]');
  });

  it('accepts shared references that are not cycles', () => {
    const shared = { x: 1 };
    expect(jsonCodec.decode(jsonCodec.encode({ a: shared, b: shared }))).toEqual({ a: { x: 1 }, b: { x: 1 } });
  });
});
