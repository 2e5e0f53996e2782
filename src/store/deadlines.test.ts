import { describe, expect, it } from 'vitest';
import { Deadlines } from './deadlines.js';

const errors = {
  timeout: (what: string, ms: number) => new Error(`${what}: no answer within ${ms} ms`),
  failure: (what: string, e: unknown) => new Error(`${what} mapped ${(e as Error).message}`),
};

describe('Deadlines', () => {
  it('passes values through map and errors through errors.failure', async () => {
    const d = new Deadlines(errors, 10);
    await expect(d.bound(Promise.resolve(2), 1000, 'get', (v) => v * 21)).resolves.toBe(42);
    await expect(d.bound(Promise.reject(new Error('x')), 1000, 'get')).rejects.toThrow('get mapped x');
    await expect(
      d.bound(Promise.resolve(1), 1000, 'get', () => {
        throw new Error('from map');
      }),
    ).rejects.toThrow('from map');
  });

  it('rejects a call that never settles once its deadline passed, also after a burst of settled calls', async () => {
    const d = new Deadlines(errors, 10);
    const hung = d.bound(new Promise<never>(() => undefined), 30, 'begin');
    // A burst that never yields to timers compacts the list: the hung call must survive it.
    for (let i = 0; i < 5000; i++) await d.bound(Promise.resolve(i), 1000, 'get');
    // Were it lost, this would hang until the test's own timeout fails it.
    await expect(hung).rejects.toThrow('begin: no answer within 30 ms');
  });
});
