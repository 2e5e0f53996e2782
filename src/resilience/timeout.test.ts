import { describe, expect, it } from 'vitest';
import { isInvalidOptionError } from '../core/errors/invalid-option.js';
import { sleep } from '../core/time.js';
import { FakeClock } from '../core/fake-clock.js';
import { type DeadlineExceededError, isDeadlineExceededError } from './errors/deadline-exceeded.js';
import type { TimeoutEvent } from './events.js';
import { timeout, type TimeoutOptions } from './timeout.js';

type Settled<T> = { ok: true; value: T; at: number } | { ok: false; error: unknown; at: number };
const settleAt = <T>(p: Promise<T>, clock: FakeClock): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value, at: clock.now() }),
    (error: unknown) => ({ ok: false as const, error, at: clock.now() }),
  );

function setup(ms: number, options: TimeoutOptions = {}) {
  const clock = new FakeClock();
  const policy = timeout(ms, { clock, ...options });
  const timeouts: TimeoutEvent[] = [];
  policy.on('timeout', (e) => timeouts.push(e));
  return { clock, policy, timeouts };
}

/** Resolves after `ms` on the clock, ignoring any signal. */
const stubborn = (clock: FakeClock, ms: number, outcome: () => unknown) => () =>
  new Promise((resolve, reject) =>
    clock.setTimeout(() => {
      try {
        resolve(outcome());
      } catch (error) {
        reject(error);
      }
    }, ms),
  );

describe('cooperative timeout', () => {
  it('aborts the task signal at the deadline; the caller gets DeadlineExceededError', async () => {
    const { clock, policy, timeouts } = setup(1000);
    let seen: AbortSignal | undefined;
    const result = settleAt(
      policy.execute(async ({ signal, deadline }) => {
        seen = signal;
        expect(deadline).toBe(1000);
        await sleep(5000, signal, clock);
        return 'late';
      }),
      clock,
    );
    await clock.runAll();
    const settled = await result;
    expect(settled.ok).toBe(false);
    expect(isDeadlineExceededError((settled as { error: unknown }).error)).toBe(true);
    expect(settled.at).toBe(1000);
    expect(seen?.aborted).toBe(true);
    expect(timeouts).toEqual([{ timeoutMs: 1000, deadline: 1000 }]);
  });

  it('waits for a task that ignores its signal and keeps its result', async () => {
    const { clock, policy, timeouts } = setup(1000);
    const result = settleAt(policy.execute(stubborn(clock, 1500, () => 'finished anyway')), clock);
    await clock.runAll();
    expect(await result).toEqual({ ok: true, value: 'finished anyway', at: 1500 });
    expect(timeouts).toHaveLength(1);
  });

  it('reports a late failure as DeadlineExceededError with the failure as cause', async () => {
    const { clock, policy } = setup(1000);
    const result = settleAt(
      policy.execute(
        stubborn(clock, 1200, () => {
          throw new Error('socket hang up');
        }),
      ),
      clock,
    );
    await clock.runAll();
    const error = ((await result) as { error: DeadlineExceededError }).error;
    expect(isDeadlineExceededError(error)).toBe(true);
    expect((error.cause as Error).message).toBe('socket hang up');
  });

  it('a task that finishes in time keeps its result and leaves no timer behind', async () => {
    const { clock, policy, timeouts } = setup(1000);
    const result = settleAt(policy.execute(stubborn(clock, 10, () => 'quick')), clock);
    await clock.advance(10);
    expect(await result).toEqual({ ok: true, value: 'quick', at: 10 });
    expect(clock.pendingTimers).toBe(0);
    expect(timeouts).toEqual([]);
  });
});

describe('aggressive timeout', () => {
  it('rejects at the deadline even if the task ignores its signal', async () => {
    const { clock, policy, timeouts } = setup(1000, { strategy: 'aggressive' });
    let finished = false;
    let seen: AbortSignal | undefined;
    const result = settleAt(
      policy.execute((ctx) => {
        seen = ctx.signal;
        return stubborn(clock, 60_000, () => (finished = true))();
      }),
      clock,
    );
    await clock.advance(1000);
    const settled = await result;
    expect(settled.ok).toBe(false);
    expect(settled.at).toBe(1000);
    expect(isDeadlineExceededError((settled as { error: unknown }).error)).toBe(true);
    expect(seen?.aborted).toBe(true);
    expect(finished).toBe(false);
    expect(timeouts).toHaveLength(1);
    await clock.runAll(); // the abandoned task may still finish; nobody is left to care
    expect(finished).toBe(true);
  });

  it('rejects as soon as the caller aborts', async () => {
    const { clock, policy } = setup(10_000, { strategy: 'aggressive' });
    const controller = new AbortController();
    const result = settleAt(
      policy.execute(() => new Promise(() => {}), { signal: controller.signal }),
      clock,
    );
    await clock.advance(5);
    controller.abort(new Error('caller left'));
    const settled = await result;
    expect((settled as { error: Error }).error.message).toBe('caller left');
    expect(settled.at).toBe(5);
  });
});

describe('timeout and an outer deadline', () => {
  it('an earlier outer deadline wins and is not reported as this timeout', async () => {
    const { clock, policy, timeouts } = setup(5000);
    let deadline: number | undefined;
    const result = settleAt(
      policy.execute(
        async (ctx) => {
          deadline = ctx.deadline;
          await sleep(60_000, ctx.signal, clock);
        },
        { deadline: 300 },
      ),
      clock,
    );
    await clock.runAll();
    const settled = await result;
    expect(deadline).toBe(300);
    expect(settled.at).toBe(300);
    expect(isDeadlineExceededError((settled as { error: unknown }).error)).toBe(true);
    expect(timeouts).toEqual([]);
  });

  it('timeout(0) does not start the task', async () => {
    const { clock, policy } = setup(0);
    let ran = false;
    const settled = await settleAt(
      policy.execute(() => (ran = true)),
      clock,
    );
    expect(settled.ok).toBe(false);
    expect(ran).toBe(false);
  });

  it('validates its options', () => {
    const makers = [() => timeout(-1), () => timeout(10, { strategy: 'brutal' as never }), () => timeout(10, { ms: 1 } as never)];
    for (const make of makers) {
      let error: unknown;
      try {
        make();
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error)).toBe(true);
    }
  });
});
