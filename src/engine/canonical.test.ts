import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnsupportedInputError } from '../core/errors/unsupported-input.js';
import { canonicalize } from './canonical.js';
import { fingerprint } from './fingerprint.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

function fromBits(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

function unsupported(fn: () => unknown): UnsupportedInputError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(UnsupportedInputError);
    return e as UnsupportedInputError;
  }
  throw new Error('expected UnsupportedInputError, nothing was thrown');
}

/** -0 and 0 are the same JSON number. */
function normalize(value: unknown): unknown {
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(normalize);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v)]));
  }
  return value;
}

/** The same value with every object's keys in another order (seeded, deterministic). */
function reorder(value: unknown, seed: number): unknown {
  if (Array.isArray(value)) return value.map((v) => reorder(v, seed));
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value);
    let s = seed >>> 0;
    for (let i = entries.length - 1; i > 0; i--) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      const j = s % (i + 1);
      [entries[i], entries[j]] = [entries[j]!, entries[i]!];
    }
    const out: Record<string, unknown> = {};
    for (const [k, v] of entries)
      Object.defineProperty(out, k, { value: reorder(v, seed + 1), enumerable: true, writable: true, configurable: true });
    return out;
  }
  return value;
}

describe('canonicalize (RFC 8785)', () => {
  it('writes numbers as RFC 8785 Appendix B expects', () => {
    const vectors: Array<[string, string]> = [
      ['0000000000000000', '0'],
      ['8000000000000000', '0'],
      ['0000000000000001', '5e-324'],
      ['8000000000000001', '-5e-324'],
      ['7fefffffffffffff', '1.7976931348623157e+308'],
      ['ffefffffffffffff', '-1.7976931348623157e+308'],
      ['4340000000000000', '9007199254740992'],
      ['c340000000000000', '-9007199254740992'],
      ['4430000000000000', '295147905179352830000'],
      ['44b52d02c7e14af5', '9.999999999999997e+22'],
      ['44b52d02c7e14af6', '1e+23'],
      ['44b52d02c7e14af7', '1.0000000000000001e+23'],
      ['444b1ae4d6e2ef4e', '999999999999999700000'],
      ['444b1ae4d6e2ef4f', '999999999999999900000'],
      ['444b1ae4d6e2ef50', '1e+21'],
      ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
      ['3eb0c6f7a0b5ed8d', '0.000001'],
      ['41b3de4355555553', '333333333.3333332'],
      ['41b3de4355555554', '333333333.33333325'],
      ['41b3de4355555555', '333333333.3333333'],
      ['41b3de4355555556', '333333333.3333334'],
      ['41b3de4355555557', '333333333.33333343'],
      ['becbf647612f3696', '-0.0000033333333333333333'],
      ['43143ff3c1cb0959', '1424953923781206.2'],
    ];
    for (const [bits, text] of vectors) expect(canonicalize(fromBits(bits)), bits).toBe(text);
    expect(canonicalize(1e21)).toBe('1e+21');
    expect(canonicalize(1e-7)).toBe('1e-7');
    expect(canonicalize(0.000001)).toBe('0.000001');
    expect(canonicalize(-0)).toBe('0');
  });

  it('reproduces the RFC 8785 section 3.2.2 example', () => {
    const input = JSON.parse(String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`);
    expect(canonicalize(input)).toBe(
      String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
    );
  });

  it('sorts keys by UTF-16 code units (RFC 8785 section 3.2.3)', () => {
    const input = JSON.parse(String.raw`{
      "\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One", "\ud83d\ude00": "Emoji: Grinning Face", "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis"
    }`);
    const keys = Object.keys(JSON.parse(canonicalize(input)) as object);
    // JSON.parse reorders the integer-like key "1" first, so compare the text instead.
    expect(keys).toContain('1');
    expect(canonicalize(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it('omits object properties whose value is undefined (JSON rule)', () => {
    expect(canonicalize({ a: 1, b: undefined })).toBe('{"a":1}');
    expect(fingerprint({ a: 1, b: undefined })).toBe(fingerprint({ a: 1 }));
  });

  it('turns a valid Date into its ISO string (toJSON rule)', () => {
    const date = new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6));
    expect(canonicalize({ at: date })).toBe('{"at":"2024-01-02T03:04:05.006Z"}');
    expect(fingerprint(date)).toBe(fingerprint('2024-01-02T03:04:05.006Z'));
  });

  it('uses toJSON once, with JSON key argument', () => {
    const seen: string[] = [];
    const money = { toJSON: (key: string) => (seen.push(key), { amount: 5, currency: 'EUR' }) };
    expect(canonicalize({ price: money })).toBe('{"price":{"amount":5,"currency":"EUR"}}');
    expect(seen).toEqual(['price']);
    class Id {
      constructor(readonly id: string) {}
      toJSON() {
        return this;
      }
    }
    // toJSON returning the instance itself is not applied again: the class instance is rejected.
    expect(unsupported(() => canonicalize(new Id('x'))).path).toBe('input');
  });

  it('accepts shared references that are not cycles, and null-prototype objects', () => {
    const shared = { x: 1 };
    const bare = Object.assign(Object.create(null) as object, { b: 2, a: 1 });
    expect(canonicalize({ a: shared, b: shared, c: bare })).toBe('{"a":{"x":1},"b":{"x":1},"c":{"a":1,"b":2}}');
  });

  it.each([
    ['NaN', { items: [{}, {}, { price: NaN }] }, 'input.items[2].price', /NaN/],
    ['Infinity', { total: Infinity }, 'input.total', /Infinity/],
    ['-Infinity', [-Infinity], 'input[0]', /Infinity/],
    ['undefined in an array', { list: [1, undefined] }, 'input.list[1]', /undefined/],
    ['top-level undefined', undefined, 'input', /undefined/],
    ['a hole', { list: [1, , 3] } /* eslint-disable-line no-sparse-arrays -- a hole is the point */, 'input.list[1]', /hole/],
    ['BigInt', { n: 10n }, 'input.n', /toString/],
    ['symbol', { s: Symbol('x') }, 'input.s', /symbol/],
    ['function', { f: () => 1 }, 'input.f', /function/],
    ['Map', { m: new Map([['a', 1]]) }, 'input.m', /Object\.fromEntries/],
    ['Set', { s: new Set([1]) }, 'input.s', /\[\.\.\.set\]/],
    [
      'class instance',
      {
        o: new (class Order {
          id = 1;
        })(),
      },
      'input.o',
      /instance of Order.*toJSON/,
    ],
    ['boxed primitive', { s: new String('x') }, 'input.s', /primitive/],
    ['invalid Date', { at: new Date('nope') }, 'input.at', /invalid/],
    ['lone surrogate', { t: 'a\ud800b' }, 'input.t', /surrogate/],
    ['lone surrogate in a key', { ['\udc00']: 1 }, 'input["\\udc00"]', /surrogate/],
    ['nested Buffer', { file: Buffer.from('x') }, 'input.file', /base64/],
    ['nested Uint8Array', [new Uint8Array([1])], 'input[0]', /base64/],
    ['ArrayBuffer', { b: new ArrayBuffer(2) }, 'input.b', /base64/],
    ['symbol key', { [Symbol('k')]: 1 }, 'input', /symbol-keyed/],
    ['odd key', { 'a b': [NaN] }, 'input["a b"][0]', /NaN/],
  ])('rejects %s naming the path', (_name, value, path, message) => {
    const error = unsupported(() => fingerprint(value));
    expect(error.path).toBe(path);
    expect(error.code).toBe('UNSUPPORTED_INPUT');
    expect(error.message).toMatch(message);
    expect(error.message).toContain(path);
  });

  it('rejects cycles, naming where the cycle closes', () => {
    const order: Record<string, unknown> = { id: 1, lines: [] };
    (order.lines as unknown[]).push({ order });
    expect(unsupported(() => canonicalize(order)).path).toBe('input.lines[0].order');
  });

  it('names a custom root', () => {
    expect(unsupported(() => canonicalize({ a: NaN }, 'body')).path).toBe('body.a');
  });
});

describe('fingerprint', () => {
  it('is hex SHA-256 of the canonical text', () => {
    const value = { b: [1, 'two'], a: null };
    expect(fingerprint(value)).toBe(sha256('{"a":null,"b":[1,"two"]}'));
    expect(fingerprint(value)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes a top-level Uint8Array as bytes, in a domain of its own', () => {
    expect(fingerprint(Buffer.from('"a"'))).not.toBe(fingerprint('a'));
    expect(fingerprint(Buffer.from('"a"'))).not.toBe(sha256('"a"'));
    expect(fingerprint(Buffer.from([1, 2, 3]))).toBe(fingerprint(new Uint8Array([1, 2, 3])));
    expect(fingerprint(Buffer.from([1, 2, 3]))).not.toBe(fingerprint(Buffer.from([1, 2, 4])));
    expect(fingerprint(new Uint8Array())).toMatch(/^[0-9a-f]{64}$/);
  });

  it('rejects other top-level binary views', () => {
    expect(unsupported(() => fingerprint(new Uint16Array([1]))).path).toBe('input');
  });

  it('property: key order never changes the fingerprint', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.integer(), (value, seed) => {
        expect(fingerprint(reorder(value, seed))).toBe(fingerprint(value));
      }),
      { numRuns: 300 },
    );
  });

  it('property: JSON.parse(canonicalize(x)) deep-equals x', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        expect(JSON.parse(canonicalize(value))).toEqual(normalize(value));
      }),
      { numRuns: 300 },
    );
  });

  it('property: canonicalize(x) is JSON.stringify of x with keys sorted by UTF-16 code units', () => {
    // An independent writer: integer-like keys break JS property order, so no object is rebuilt.
    const reference = (value: unknown): string => {
      if (Array.isArray(value)) return `[${value.map(reference).join(',')}]`;
      if (value === null || typeof value !== 'object') return JSON.stringify(value);
      const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      return `{${keys.map((k) => `${JSON.stringify(k)}:${reference((value as Record<string, unknown>)[k])}`).join(',')}}`;
    };
    // Any UTF-16 text without lone surrogates (those are rejected, tested above).
    const text = (maxLength: number) =>
      fc.string({ unit: 'binary', maxLength }).map((t) => (t as string & { toWellFormed(): string }).toWellFormed());
    const key = fc.oneof(text(6), fc.string({ maxLength: 3 }), fc.constantFrom('0', '10', '2', '-1', '__proto__'));
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        text(8),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(key, tie('node'), { maxKeys: 20 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalize(v)).toBe(reference(v));
      }),
      { numRuns: 300 },
    );
    // Wide objects take another sorting path.
    const wide = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [
        `${`k${(i * 7) % 40}\u00e9${i % 3}`.slice(0, 2 + (i % 4))}${i % 2 ? '\u{1f600}' : '\uffff'}`,
        i,
      ]),
    );
    expect(canonicalize(wide)).toBe(reference(wide));
  });

  it('property: distinct JSON values have distinct fingerprints, equal ones equal', () => {
    const pair = fc.oneof(
      fc.tuple(fc.jsonValue(), fc.jsonValue()),
      fc.jsonValue().chain((v) =>
        fc.tuple(
          fc.constant(v),
          fc.integer().map((seed) => reorder(v, seed)),
        ),
      ),
      fc.jsonValue({ maxDepth: 2 }).map((v) => [v, { wrapped: v }] as [unknown, unknown]),
    );
    fc.assert(
      fc.property(pair, ([a, b]) => {
        const same = isDeepStrictEqual(normalize(a), normalize(b));
        expect(fingerprint(a) === fingerprint(b)).toBe(same);
      }),
      { numRuns: 300 },
    );
  });
});
