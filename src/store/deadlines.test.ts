import { describe, expect, it } from 'vitest';
import { Deadlines } from './deadlines.js';

describe('Deadlines', () => {
  it('passes values through map and errors through mapError', async () => {
    const d = new Deadlines(10);
    await expect(d.bound(Promise.resolve(2), 1000, () => new Error('late'), undefined, (v) => v * 21)).resolves.toBe(42);
    await expect(d.bound(Promise.reject(new Error('x')), 1000, () => new Error('late'), (e) => new Error(`mapped ${(e as Error).message}`)))
      .rejects.toThrow('mapped x');
    await expect(d.bound(Promise.resolve(1), 1000, () => new Error('late'), undefined, () => {
      throw new Error('from map');
    })).rejects.toThrow('from map');
  });

  it('rejects a call that never settles once its deadline passed, also after a burst of settled calls', async () => {
    const d = new Deadlines(10);
    const hung = d.bound(new Promise<never>(() => undefined), 30, () => new Error('no answer within 30 ms'));
    // A burst that never yields to timers compacts the list: the hung call must survive it.
    for (let i = 0; i < 5000; i++) await d.bound(Promise.resolve(i), 1000, () => new Error('late'));
    // Were it lost, this would hang until the test's own timeout fails it.
    await expect(hung).rejects.toThrow('no answer within 30 ms');
  });
});
