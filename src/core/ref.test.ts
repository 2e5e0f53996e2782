import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from './errors/invalid-key.js';
import { validateRef } from './ref.js';

describe('validateRef', () => {
  it('accepts keys of 1..255 and scopes of 1..1024 characters, returning a frozen copy', () => {
    const ref = { scope: 's'.repeat(1024), key: 'k'.repeat(255) };
    const valid = validateRef(ref);
    expect(valid).toEqual(ref);
    expect(valid).not.toBe(ref);
    expect(Object.isFrozen(valid)).toBe(true);
    expect(validateRef({ scope: 'a', key: '😀' })).toEqual({ scope: 'a', key: '😀' });
  });

  it.each([
    [{ scope: 'a', key: '' }, /key is empty/],
    [{ scope: '', key: 'k' }, /scope is empty/],
    [{ scope: 'a', key: 'k'.repeat(256) }, /256 characters, at most 255/],
    [{ scope: 's'.repeat(1025), key: 'k' }, /1025 characters, at most 1024/],
    [{ scope: 'a', key: 42 }, /key must be a string, got number/],
    [{ scope: null, key: 'k' }, /scope must be a string, got null/],
    [{ scope: 'a' }, /key must be a string, got undefined/],
    [{ scope: 'a', key: 'a\0b' }, /NUL/],
    [{ scope: 'a', key: 'a\ud800' }, /surrogate/],
    [null, /expected \{ scope, key \}/],
    ['k', /expected \{ scope, key \}/],
  ])('rejects %j', (ref, message) => {
    expect(() => validateRef(ref)).toThrow(InvalidKeyError);
    expect(() => validateRef(ref)).toThrow(message);
  });
});
