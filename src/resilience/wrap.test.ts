import { describe, expect, it } from 'vitest';
import { isInvalidOptionError } from '../core/errors/invalid-option.js';
import { constantBackoff } from './backoff/constant.js';
import { consecutiveBreaker } from './breaker/consecutive.js';
import { circuitBreaker } from './breaker/circuit-breaker.js';
import { bulkhead } from './bulkhead.js';
import { sleep } from '../core/time.js';
import { FakeClock } from '../core/fake-clock.js';
import { isDeadlineExceededError } from './errors/deadline-exceeded.js';
import type { GiveUpEvent } from './events.js';
import { fallback } from './fallback.js';
import type { ExecuteContext, ExecuteOptions, Policy, Task } from './policy.js';
import { retry } from './retry.js';
import { timeout } from './timeout.js';
import { wrap } from './wrap.js';

type Settled<T> = { ok: true; value: T; at: number } | { ok: false; error: unknown; at: number };
const settleAt = <T>(p: Promise<T>, clock: FakeClock): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value, at: clock.now() }),
    (error: unknown) => ({ ok: false as const, error, at: clock.now() }),
  );

/** A policy that only records that it ran, to see the nesting order. */
const tracer = (name: string, log: string[]): Policy => ({
  async execute<T>(task: Task<T>, options?: ExecuteOptions): Promise<T> {
    log.push(`${name}>`);
    const context: ExecuteContext = {
      signal: options?.signal ?? new AbortController().signal,
      deadline: options?.deadline,
      attempt: options?.attempt ?? 1,
    };
    try {
      return await task(context);
    } finally {
      log.push(`<${name}`);
    }
  },
});

describe('wrap', () => {
  it('nests the policies, the first outermost', async () => {
    const log: string[] = [];
    const policy = wrap(tracer('a', log), tracer('b', log), tracer('c', log));
    expect(await policy.execute(() => (log.push('task'), 42))).toBe(42);
    expect(log).toEqual(['a>', 'b>', 'c>', 'task', '<c', '<b', '<a']);
  });

  it('one deadline flows through every layer: the retry plans around the outer timeout', async () => {
    const clock = new FakeClock();
    const retryPolicy = retry({ clock, backoff: constantBackoff(600), maxAttempts: 10 });
    const giveUps: GiveUpEvent[] = [];
    retryPolicy.on('giveUp', (e) => giveUps.push(e));
    const policy = wrap(timeout(2000, { clock }), retryPolicy, timeout(500, { clock }));
    const attempts: Array<{ attempt: number; at: number; deadline: number | undefined }> = [];
    const result = settleAt(
      policy.execute(async ({ signal, deadline, attempt }) => {
        attempts.push({ attempt, at: clock.now(), deadline });
        await sleep(10_000, signal, clock); // a dependency that hangs
      }),
      clock,
    );
    await clock.runAll();
    const settled = await result;
    // Attempt 1 times out at 500, retry at 1100 times out at 1600; a third could not start
    // before 2200, past the outer deadline of 2000, so the retry gives up at 1600.
    expect(attempts).toEqual([
      { attempt: 1, at: 0, deadline: 500 },
      { attempt: 2, at: 1100, deadline: 1600 },
    ]);
    expect(settled.ok).toBe(false);
    expect(settled.at).toBe(1600);
    expect(isDeadlineExceededError((settled as { error: unknown }).error)).toBe(true);
    expect(giveUps.map((g) => g.reason)).toEqual(['deadline']);
  });

  it('an outer deadline reached mid-attempt ends the call at that deadline', async () => {
    const clock = new FakeClock();
    const policy = wrap(timeout(1000, { clock }), retry({ clock, backoff: constantBackoff(100), maxAttempts: 10 }));
    let calls = 0;
    const result = settleAt(
      policy.execute(async ({ signal }) => {
        calls++;
        await sleep(calls === 1 ? 50 : 10_000, signal, clock);
        throw new Error('fails fast first, then hangs');
      }),
      clock,
    );
    await clock.runAll();
    const settled = await result;
    expect(calls).toBe(2);
    expect(settled.at).toBe(1000);
    expect(isDeadlineExceededError((settled as { error: unknown }).error)).toBe(true);
  });

  it('the caller signal reaches the innermost task through every layer', async () => {
    const clock = new FakeClock();
    const policy = wrap(timeout(60_000, { clock }), retry({ clock }), circuitBreaker({ clock }), bulkhead({ maxConcurrent: 1, clock }));
    const controller = new AbortController();
    let innerSignal: AbortSignal | undefined;
    const result = settleAt(
      policy.execute(
        async ({ signal }) => {
          innerSignal = signal;
          await sleep(30_000, signal, clock);
        },
        { signal: controller.signal },
      ),
      clock,
    );
    await clock.advance(10);
    controller.abort(new Error('user cancelled'));
    const settled = await result;
    expect(innerSignal?.aborted).toBe(true);
    expect((settled as { error: Error }).error.message).toBe('user cancelled');
    expect(settled.at).toBe(10);
  });

  it('a fallback outside a breaker answers while the circuit is open', async () => {
    const clock = new FakeClock();
    const breaker = circuitBreaker({ clock, breaker: consecutiveBreaker({ threshold: 1 }), halfOpenAfterMs: 1000 });
    const policy = wrap(
      fallback((error) => `cached (${(error as Error).constructor.name})`),
      breaker,
    );
    let calls = 0;
    const failing = () => {
      calls++;
      throw new Error('down');
    };
    expect(await policy.execute(failing)).toBe('cached (Error)');
    expect(await policy.execute(failing)).toBe('cached (BrokenCircuitError)');
    expect(calls).toBe(1);
  });

  it('needs at least one policy', () => {
    let error: unknown;
    try {
      wrap();
    } catch (e) {
      error = e;
    }
    expect(isInvalidOptionError(error)).toBe(true);
  });
});
