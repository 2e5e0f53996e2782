import { describe, expect, it } from 'vitest';
import { CallGuard } from './guard.js';
import { LeaseLostError } from '../../core/errors/lease-lost.js';
import { isStoreUnavailableError } from '../../core/errors/store-unavailable.js';

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('CallGuard', () => {
  it('fails a call that never answers with StoreUnavailableError, and later calls still work', async () => {
    const guard = new CallGuard(20);
    const error = await failure(guard.run('begin', () => new Promise(() => {})));
    expect(isStoreUnavailableError(error)).toBe(true);
    expect(String(error)).toMatch(/begin got no answer within 20 ms/);
    expect(await guard.run('get', async () => 42)).toBe(42);
  });

  it('turns driver errors, thrown or rejected, into StoreUnavailableError with the cause', async () => {
    const guard = new CallGuard(1000);
    const cause = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    for (const work of [
      async () => Promise.reject(cause),
      () => {
        throw cause;
      },
    ]) {
      const error = await failure(guard.run('commit', work));
      expect(isStoreUnavailableError(error)).toBe(true);
      expect((error as Error).cause).toBe(cause);
    }
  });

  it("passes Oncekey's own errors through", async () => {
    const guard = new CallGuard(1000);
    const lost = new LeaseLostError({ scope: 's', key: 'k' });
    expect(await failure(guard.run('commit', async () => Promise.reject(lost)))).toBe(lost);
  });

  it('fails each of many stuck calls, not only the first', async () => {
    const guard = new CallGuard(10);
    const errors = await Promise.all(Array.from({ length: 50 }, () => failure(guard.run('get', () => new Promise(() => {})))));
    expect(errors.every(isStoreUnavailableError)).toBe(true);
  });
});
