import { describe, expect, it } from 'vitest';
import { InProgressError } from '../core/errors/in-progress.js';
import { isInvalidOptionError } from '../core/errors/invalid-option.js';
import { constantBackoff } from './backoff/constant.js';
import { exponentialBackoff } from './backoff/exponential.js';
import { iterableBackoff } from './backoff/iterable.js';
import { percentageBudget } from './budget/percentage.js';
import { tokenBucketBudget } from './budget/token-bucket.js';
import { sleep } from '../core/time.js';
import { FakeClock } from '../core/fake-clock.js';
import { BrokenCircuitError } from './errors/broken-circuit.js';
import { isDeadlineExceededError } from './errors/deadline-exceeded.js';
import type { GiveUpEvent, RetryEvent } from './events.js';
import type { ExecuteContext } from './policy.js';
import { retry, type RetryOptions } from './retry.js';

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
/** Attach handlers at once so a rejection during `clock.runAll()` is not reported as unhandled. */
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

/** A retry policy on a fake clock, with its events recorded. */
function setup(options: RetryOptions = {}, start = 0) {
  const clock = new FakeClock(start);
  const policy = retry({ backoff: constantBackoff(100), clock, ...options });
  const retries: RetryEvent[] = [];
  const giveUps: GiveUpEvent[] = [];
  policy.on('retry', (e) => retries.push(e));
  policy.on('giveUp', (e) => giveUps.push(e));
  return { clock, policy, retries, giveUps };
}

/** A task that fails `failures` times with `error(n)` and then returns `value`, logging when each attempt started. */
function flaky<T>(clock: FakeClock, failures: number, value: T, error = (n: number): unknown => new Error(`fail ${n}`)) {
  const starts: number[] = [];
  const attempts: number[] = [];
  const task = (ctx: ExecuteContext): T => {
    starts.push(clock.now());
    attempts.push(ctx.attempt);
    if (starts.length <= failures) throw error(starts.length);
    return value;
  };
  return { task, starts, attempts };
}

const response = (status: number, headers: Record<string, string> = {}) => new Response(null, { status, headers });

describe('retry: attempts and backoff', () => {
  it('retries failures with the backoff delays and returns the first success', async () => {
    const { clock, policy, retries } = setup({ maxAttempts: 5 });
    const { task, starts, attempts } = flaky(clock, 2, 'done');
    const result = settle(policy.execute(task));
    await clock.runAll();
    expect(await result).toEqual({ ok: true, value: 'done' });
    expect(starts).toEqual([0, 100, 200]);
    expect(attempts).toEqual([1, 2, 3]);
    expect(retries.map((r) => [r.attempt, r.delayMs, r.delaySource])).toEqual([
      [1, 100, 'backoff'],
      [2, 100, 'backoff'],
    ]);
  });

  it('stops after 3 attempts by default and throws the last error', async () => {
    const { clock, policy, giveUps } = setup();
    const { task, starts } = flaky(clock, Infinity, 'never');
    const result = settle(policy.execute(task));
    await clock.runAll();
    const settled = await result;
    expect(settled.ok).toBe(false);
    expect((settled as { error: Error }).error.message).toBe('fail 3');
    expect(starts).toHaveLength(3);
    expect(giveUps).toEqual([expect.objectContaining({ attempt: 3, reason: 'maxAttempts' })]);
  });

  it('draws jitter from the injected random source', async () => {
    const { clock, policy, retries } = setup({
      backoff: exponentialBackoff({ initialDelayMs: 100 }),
      random: () => 0.5,
      maxAttempts: 4,
    });
    const { task, starts } = flaky(clock, 3, 'ok');
    const result = settle(policy.execute(task));
    await clock.runAll();
    expect((await result).ok).toBe(true);
    expect(retries.map((r) => r.delayMs)).toEqual([50, 100, 200]);
    expect(starts).toEqual([0, 50, 150, 350]);
  });

  it('caps each backoff delay with maxDelayMs', async () => {
    const { clock, policy, retries } = setup({ backoff: constantBackoff(10_000), maxDelayMs: 250 });
    const { task } = flaky(clock, 1, 'ok');
    const result = settle(policy.execute(task));
    await clock.runAll();
    expect((await result).ok).toBe(true);
    expect(retries.map((r) => r.delayMs)).toEqual([250]);
  });

  it('stops when an iterable backoff runs out', async () => {
    const { clock, policy, giveUps } = setup({ backoff: iterableBackoff([10]), maxAttempts: 10 });
    const { task, starts } = flaky(clock, Infinity, 'never');
    const result = settle(policy.execute(task));
    await clock.runAll();
    expect((await result).ok).toBe(false);
    expect(starts).toEqual([0, 10]);
    expect(giveUps.map((g) => g.reason)).toEqual(['backoffExhausted']);
  });

  it('does not retry errors that are not retryable, by default nor by predicate', async () => {
    const { clock, policy } = setup({ maxAttempts: 5 });
    const open = flaky(clock, Infinity, 'x', () => new BrokenCircuitError('open', 1000));
    const r1 = settle(policy.execute(open.task));
    await clock.runAll();
    expect((await r1).ok).toBe(false);
    expect(open.starts).toHaveLength(1);

    const picky = setup({ maxAttempts: 5, isRetryable: (e) => (e as Error).message !== 'fatal' });
    const fatal = flaky(picky.clock, Infinity, 'x', () => new Error('fatal'));
    const r2 = settle(picky.policy.execute(fatal.task));
    await picky.clock.runAll();
    expect((await r2).ok).toBe(false);
    expect(fatal.starts).toHaveLength(1);
  });

  it('retries retryable results and returns the last one when it gives up', async () => {
    const { clock, policy, giveUps } = setup({ isRetryableResult: (r) => (r as Response).status >= 500 });
    const statuses = [503, 502, 500];
    let call = 0;
    const result = settle(policy.execute(() => response(statuses[call++]!)));
    await clock.runAll();
    const settled = await result;
    expect(settled.ok && (settled.value as Response).status).toBe(500);
    expect(call).toBe(3);
    expect(giveUps.map((g) => g.reason)).toEqual(['maxAttempts']);

    const again = setup({ isRetryableResult: (r) => (r as Response).status >= 500 });
    let second = 0;
    const ok = settle(again.policy.execute(() => response(second++ === 0 ? 503 : 200)));
    await again.clock.runAll();
    const okSettled = await ok;
    expect(okSettled.ok && (okSettled.value as Response).status).toBe(200);
  });
});

describe('retry: abort and deadline', () => {
  it('stops at once when the signal aborts during a backoff sleep', async () => {
    const { clock, policy, giveUps } = setup({ backoff: constantBackoff(10_000), maxAttempts: 5 });
    const controller = new AbortController();
    const { task, starts } = flaky(clock, Infinity, 'never');
    const result = settle(policy.execute(task, { signal: controller.signal }));
    await clock.advance(3_000);
    expect(starts).toEqual([0]);
    controller.abort(new Error('user gave up'));
    const settled = await result;
    expect(settled.ok).toBe(false);
    expect((settled as { error: Error }).error.message).toBe('user gave up');
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(60_000);
    expect(starts).toEqual([0]);
    expect(giveUps.map((g) => g.reason)).toEqual(['aborted']);
  });

  it('starts no attempt when the signal has already aborted', async () => {
    const { clock, policy } = setup();
    const { task, starts } = flaky(clock, 0, 'ok');
    const settled = await settle(policy.execute(task, { signal: AbortSignal.abort(new Error('before')) }));
    expect(settled.ok).toBe(false);
    expect(starts).toEqual([]);
  });

  it('gives up early when the next backoff would end past the deadline', async () => {
    const { clock, policy, giveUps } = setup({ backoff: constantBackoff(600), maxAttempts: 10, maxDurationMs: 1000 });
    const { task, starts } = flaky(clock, Infinity, 'never');
    let rejectedAt: number | undefined;
    const result = settle(policy.execute(task)).then((s) => ((rejectedAt = clock.now()), s));
    await clock.runAll();
    const settled = await result;
    expect((settled as { error: Error }).error.message).toBe('fail 2');
    expect(starts).toEqual([0, 600]);
    expect(rejectedAt).toBe(600); // did not sleep towards a deadline it could not make
    expect(giveUps.map((g) => g.reason)).toEqual(['deadline']);
  });

  it('honours a caller deadline the same way, and hands it to the task', async () => {
    const { clock, policy } = setup({ backoff: constantBackoff(600), maxAttempts: 10 }, 5000);
    const deadlines: Array<number | undefined> = [];
    const settled = settle(
      policy.execute(
        (ctx) => {
          deadlines.push(ctx.deadline);
          throw new Error('down');
        },
        { deadline: 6000 },
      ),
    );
    await clock.runAll();
    expect((await settled).ok).toBe(false);
    expect(deadlines).toEqual([6000, 6000]);
  });

  it('aborts the running attempt at the deadline and starts no other', async () => {
    const { clock, policy, giveUps } = setup({ backoff: constantBackoff(10), maxAttempts: 10, maxDurationMs: 1000 });
    let calls = 0;
    const result = settle(
      policy.execute(async ({ signal }) => {
        calls++;
        await sleep(5000, signal, clock); // a slow call that honours its signal
        return 'late';
      }),
    );
    await clock.runAll();
    const settled = await result;
    expect(settled.ok).toBe(false);
    expect(isDeadlineExceededError((settled as { error: unknown }).error)).toBe(true);
    expect(calls).toBe(1);
    expect(giveUps.map((g) => g.reason)).toEqual(['deadline']);
  });
});

describe('retry: server-directed delays', () => {
  it('waits exactly the Retry-After seconds instead of the backoff', async () => {
    const { clock, policy, retries } = setup({ isRetryableResult: (r) => (r as Response).status === 429 });
    const starts: number[] = [];
    const result = settle(
      policy.execute(() => {
        starts.push(clock.now());
        return starts.length === 1 ? response(429, { 'Retry-After': '2' }) : response(200);
      }),
    );
    await clock.runAll();
    expect((await result).ok).toBe(true);
    expect(starts).toEqual([0, 2000]);
    expect(retries).toEqual([expect.objectContaining({ delayMs: 2000, delaySource: 'retryAfter' })]);
  });

  it('reads an HTTP-date Retry-After against the injected clock', async () => {
    const now = Date.UTC(2030, 5, 1, 10, 0, 0);
    const { clock, policy } = setup({ isRetryableResult: (r) => (r as Response).status === 503 }, now);
    const starts: number[] = [];
    const result = settle(
      policy.execute(() => {
        starts.push(clock.now());
        return starts.length === 1 ? response(503, { 'Retry-After': 'Sat, 01 Jun 2030 10:00:03 GMT' }) : response(200);
      }),
    );
    await clock.runAll();
    expect((await result).ok).toBe(true);
    expect(starts).toEqual([now, now + 3000]);
  });

  it('prefers retry-after-ms and reads hints from errors too', async () => {
    const { clock, policy } = setup();
    const { task, starts } = flaky(clock, 2, 'ok', (n) =>
      n === 1
        ? Object.assign(new Error('busy'), { headers: { 'retry-after-ms': '350', 'retry-after': '9' } })
        : new InProgressError({ scope: 's', key: 'k' }, 1234),
    );
    const result = settle(policy.execute(task));
    await clock.runAll();
    expect((await result).ok).toBe(true);
    expect(starts).toEqual([0, 350, 350 + 1234]);
  });

  it('gives up at once when Retry-After is beyond maxRetryAfterMs', async () => {
    const { clock, policy, giveUps } = setup({
      isRetryableResult: (r) => (r as Response).status === 503,
      maxRetryAfterMs: 60_000,
    });
    let calls = 0;
    const result = settle(policy.execute(() => (calls++, response(503, { 'Retry-After': '120' }))));
    await clock.runAll();
    const settled = await result;
    expect(settled.ok && (settled.value as Response).status).toBe(503);
    expect(calls).toBe(1);
    expect(clock.now()).toBe(0);
    expect(giveUps).toEqual([expect.objectContaining({ reason: 'retryAfterTooLong', retryAfterMs: 120_000 })]);
  });

  it('gives up at once when Retry-After is beyond the remaining deadline', async () => {
    const { clock, policy, giveUps } = setup({ maxDurationMs: 3000 });
    const { task, starts } = flaky(clock, Infinity, 'x', () => Object.assign(new Error('slow down'), { retryAfterMs: 5000 }));
    const result = settle(policy.execute(task));
    await clock.runAll();
    expect((await result).ok).toBe(false);
    expect(starts).toEqual([0]);
    expect(clock.now()).toBe(0);
    expect(giveUps).toEqual([expect.objectContaining({ reason: 'deadline', retryAfterMs: 5000 })]);
  });

  it('lets the caller replace the hint reader', async () => {
    const { clock, policy } = setup({ retryAfter: () => 42 });
    const { task, starts } = flaky(clock, 1, 'ok');
    const result = settle(policy.execute(task));
    await clock.runAll();
    expect((await result).ok).toBe(true);
    expect(starts).toEqual([0, 42]);
  });
});

describe('retry: budgets', () => {
  it('a token bucket shared by two policies stops retries once failures drained it', async () => {
    const budget = tokenBucketBudget({ maxTokens: 4, tokenRatio: 0.5 });
    const clock = new FakeClock();
    const a = retry({ budget, clock, backoff: constantBackoff(10), maxAttempts: 3 });
    const b = retry({ budget, clock, backoff: constantBackoff(10), maxAttempts: 3 });
    const giveUps: GiveUpEvent[] = [];
    b.on('giveUp', (e) => giveUps.push(e));

    // a: attempt 1 fails (4 → 3 tokens, 3 > 2: retry), attempt 2 fails (→ 2), 2 is not > 2: no retry.
    const first = flaky(clock, Infinity, 'x');
    const r1 = settle(a.execute(first.task));
    await clock.runAll();
    expect((await r1).ok).toBe(false);
    expect(first.starts).toHaveLength(2);
    expect(budget.tokens).toBe(2);

    // b shares the drained bucket: its first failure is not retried at all.
    const second = flaky(clock, Infinity, 'x');
    const r2 = settle(b.execute(second.task));
    await clock.runAll();
    expect((await r2).ok).toBe(false);
    expect(second.starts).toHaveLength(1);
    expect(giveUps.map((g) => g.reason)).toEqual(['budget']);
    expect(budget.tokens).toBe(1);

    // Successes refill it: 1 + 6 × 0.5 = 4 tokens; a failure leaves 3 > 2, so it is retried again.
    for (let i = 0; i < 6; i++) await b.execute(() => 'ok');
    expect(budget.tokens).toBe(4);
    const third = flaky(clock, 1, 'ok');
    const r3 = settle(b.execute(third.task));
    await clock.runAll();
    expect((await r3).ok).toBe(true);
    expect(third.starts).toHaveLength(2);
  });

  it('a percentage budget caps retries to a share of calls', async () => {
    const clock = new FakeClock();
    const budget = percentageBudget({ maxRetryRatio: 0.5, minRetriesPerSecond: 0, windowMs: 10_000, clock });
    const policy = retry({ budget, clock, backoff: constantBackoff(0), maxAttempts: 2 });
    let calls = 0;
    const results = await Promise.all(
      Array.from({ length: 4 }, () =>
        settle(
          policy.execute(() => {
            calls++;
            throw new Error('down');
          }),
        ),
      ),
    );
    expect(results.every((r) => !r.ok)).toBe(true);
    expect(calls).toBe(4 + 2); // four calls, two retries (50 %)
  });
});

describe('retry: options', () => {
  it('rejects unknown and bad options', () => {
    const bad: Array<Record<string, unknown>> = [
      { maxAttempt: 3 },
      { maxAttempts: 0 },
      { maxAttempts: 1.5 },
      { backoff: [1, 2] },
      { budget: {} },
      { clock: { now: () => 0 } },
      { maxRetryAfterMs: -1 },
    ];
    for (const options of bad) {
      let error: unknown;
      try {
        retry(options as RetryOptions);
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error), JSON.stringify(options)).toBe(true);
    }
    expect(() => retry({ maxAttempts: Infinity })).not.toThrow();
  });
});
