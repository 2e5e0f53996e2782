import { describe, expect, test } from 'vitest';
import { parseIdempotencyKey } from './idempotency-key.js';

describe('parseIdempotencyKey', () => {
  test('a Structured Field string', () => {
    expect(parseIdempotencyKey('"8e03978e-40d5-43e8-bc93-6894a57f9324"')).toEqual({
      kind: 'key',
      key: '8e03978e-40d5-43e8-bc93-6894a57f9324',
    });
    expect(parseIdempotencyKey('"with space and \\"quote\\""')).toEqual({ kind: 'key', key: 'with space and "quote"' });
    expect(parseIdempotencyKey('"abc";param=1')).toEqual({ kind: 'key', key: 'abc' });
  });

  test('a bare key, unless refused', () => {
    expect(parseIdempotencyKey('abc-123_XYZ:/.')).toEqual({ kind: 'key', key: 'abc-123_XYZ:/.' });
    expect(parseIdempotencyKey('  abc  ')).toEqual({ kind: 'key', key: 'abc' });
    expect(parseIdempotencyKey('abc', { acceptBareKey: false }).kind).toBe('malformed');
    expect(parseIdempotencyKey('"abc"', { acceptBareKey: false })).toEqual({ kind: 'key', key: 'abc' });
  });

  test('missing', () => {
    expect(parseIdempotencyKey(null)).toEqual({ kind: 'missing' });
    expect(parseIdempotencyKey(undefined)).toEqual({ kind: 'missing' });
  });

  test('at most 255 characters', () => {
    expect(parseIdempotencyKey(`"${'a'.repeat(255)}"`)).toEqual({ kind: 'key', key: 'a'.repeat(255) });
    expect(parseIdempotencyKey(`"${'a'.repeat(256)}"`).kind).toBe('malformed');
    expect(parseIdempotencyKey('a'.repeat(256)).kind).toBe('malformed');
  });

  test.each([
    ['', 'empty header'],
    ['""', 'empty string'],
    ['"abc', 'unterminated'],
    ['"a", "b"', 'two keys (two headers combined)'],
    ['a b', 'bare with a space'],
    ['ab"c', 'bare with a quote'],
    ['"caf\u00e9"', 'non-ASCII in a string'],
    ['caf\u00e9', 'non-ASCII bare'],
    ['"tab\there"', 'a control character in a string'],
  ])('%j is malformed (%s)', (value) => {
    expect(parseIdempotencyKey(value).kind).toBe('malformed');
  });
});
