/**
 * The composed-policy example of docs/resilience.md (examples/resilience.ts, word for word: see
 * test/readme.test.ts) does what the page says, on fake time.
 */
import { describe, expect, it } from 'vitest';
import { createPriceReader, UpstreamError } from '../examples/resilience.js';
import { FakeClock } from 'oncekey/resilience';

/** Fake upstream: answers from a script and logs when each request arrived. */
function upstream(clock: FakeClock, script: Array<() => Response>) {
  const calls: number[] = [];
  const fetch = async (_url: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push(clock.now());
    init?.signal?.throwIfAborted();
    const next = script[Math.min(calls.length - 1, script.length - 1)]!;
    return next();
  };
  return { fetch: fetch as typeof globalThis.fetch, calls };
}

const json = (body: unknown) => new Response(JSON.stringify(body), { status: 200 });

describe('the composed-policy example in docs/resilience.md', () => {
  it('waits out a 503 with Retry-After and returns the fresh price', async () => {
    const clock = new FakeClock();
    const { fetch, calls } = upstream(clock, [
      () => new Response(null, { status: 503, headers: { 'Retry-After': '1' } }),
      () => json({ price: 42 }),
    ]);
    const readPrice = createPriceReader({ fetch, clock });
    const result = readPrice('sku-1');
    await clock.runAll();
    expect(await result).toEqual({ price: 42, stale: false });
    expect(calls).toEqual([0, 1000]);
  });

  it('does not retry a 404, and has no stale price to fall back on yet', async () => {
    const clock = new FakeClock();
    const { fetch, calls } = upstream(clock, [() => new Response(null, { status: 404 })]);
    const readPrice = createPriceReader({ fetch, clock });
    const result = readPrice('nope').catch((e: unknown) => e);
    await clock.runAll();
    const error = await result;
    expect(error).toBeInstanceOf(UpstreamError);
    expect((error as UpstreamError).status).toBe(404);
    expect(calls).toHaveLength(1);
  });

  it('when the upstream goes down: retries, then the budget and the breaker stop the calls', async () => {
    const clock = new FakeClock();
    let down = false;
    const { fetch, calls } = upstream(clock, [
      () => {
        if (down) throw new TypeError('fetch failed');
        return json({ price: 7 });
      },
    ]);
    const readPrice = createPriceReader({ fetch, clock });
    const read = async () => {
      const result = readPrice('sku-7');
      await clock.runAll();
      return result;
    };

    expect(await read()).toEqual({ price: 7, stale: false });
    down = true;
    const before = calls.length;
    expect(await read()).toEqual({ price: 7, stale: true }); // 4 attempts, all failed
    expect(calls.length - before).toBe(4);
    expect(await read()).toEqual({ price: 7, stale: true }); // 5th failure: the budget refuses more retries
    expect(calls.length - before).toBe(5);
    expect(await read()).toEqual({ price: 7, stale: true }); // the circuit is open: no call at all
    expect(calls.length - before).toBe(5);
  });
});
