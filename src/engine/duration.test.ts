import { describe, expect, it } from 'vitest';
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { toMs } from './duration.js';

describe('toMs', () => {
  it.each([
    [1500, 1500],
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['1.5h', 5_400_000],
    [' 2 minutes ', 120_000],
  ])('reads %j as %d ms', (value, expected) => {
    expect(toMs('ttl', value)).toBe(expected);
  });

  it.each([0, -1, 1.5, NaN, Infinity, '', '30', 'abc', '-5s', '0s', '1.5ms', 'x'.repeat(200), null, undefined, {}, true])(
    'rejects %j naming the option',
    (value) => {
      let error: unknown;
      try {
        toMs('wait.timeout', value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(InvalidOptionError);
      expect((error as InvalidOptionError).option).toBe('wait.timeout');
      expect((error as InvalidOptionError).message).toContain('wait.timeout');
    },
  );
});
