import { describe, expect, it } from 'vitest';
import { fallback } from './fallback.js';

describe('fallback', () => {
  it('answers a failure with the handler, which receives the error', async () => {
    const seen: unknown[] = [];
    const policy = fallback((error) => (seen.push(error), 'cached'));
    const boom = new Error('boom');
    expect(
      await policy.execute(() => {
        throw boom;
      }),
    ).toBe('cached');
    expect(seen).toEqual([boom]);
    expect(await policy.execute(() => 'fresh')).toBe('fresh');
    expect(seen).toHaveLength(1);
  });

  it('passes through errors it does not handle', async () => {
    const policy = fallback(() => 'cached', { handles: (e) => (e as Error).message === 'timeout' });
    await expect(
      policy.execute(() => {
        throw new Error('bad request');
      }),
    ).rejects.toThrow('bad request');
  });

  it('does not hide a caller cancellation behind a fallback value', async () => {
    let called = false;
    const policy = fallback(() => ((called = true), 'cached'));
    const controller = new AbortController();
    const result = policy.execute(
      ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      { signal: controller.signal },
    );
    controller.abort(new Error('cancelled'));
    await expect(result).rejects.toThrow('cancelled');
    expect(called).toBe(false);
  });
});
