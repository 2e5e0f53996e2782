import { describe, expect, it } from 'vitest';
import { isInvalidOptionError } from '../core/errors/invalid-option.js';
import { bulkhead } from './bulkhead.js';
import { FakeClock } from '../core/fake-clock.js';
import { type BulkheadRejectedError, isBulkheadRejectedError } from './errors/bulkhead-rejected.js';
import { isDeadlineExceededError } from './errors/deadline-exceeded.js';

type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };
const settle = <T>(p: Promise<T>): Promise<Settled<T>> =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
const tick = () => new Promise((r) => setImmediate(r));

/** Tasks that finish when the test says so, recording which ones started. */
function tasks() {
  const started: string[] = [];
  const finish = new Map<string, (v?: unknown) => void>();
  const task = (name: string) => () =>
    new Promise((resolve) => {
      started.push(name);
      finish.set(name, () => resolve(name));
    });
  return { started, task, done: (name: string) => finish.get(name)!() };
}

describe('bulkhead', () => {
  it('runs maxConcurrent at once, queues maxQueue, rejects the rest', async () => {
    const policy = bulkhead({ maxConcurrent: 2, maxQueue: 1 });
    const rejects: string[] = [];
    policy.on('reject', (e) => rejects.push(e.reason));
    const { started, task, done } = tasks();
    const a = settle(policy.execute(task('a')));
    const b = settle(policy.execute(task('b')));
    const c = settle(policy.execute(task('c')));
    const d = settle(policy.execute(task('d')));
    await tick();
    expect(started).toEqual(['a', 'b']);
    expect([policy.active, policy.queued]).toEqual([2, 1]);
    const rejected = (await d) as { error: BulkheadRejectedError };
    expect(isBulkheadRejectedError(rejected.error)).toBe(true);
    expect(rejected.error.code).toBe('BULKHEAD_REJECTED');
    expect(rejects).toEqual(['bulkheadFull']);

    done('a');
    expect(await a).toEqual({ ok: true, value: 'a' });
    await tick();
    expect(started).toEqual(['a', 'b', 'c']);
    expect([policy.active, policy.queued]).toEqual([2, 0]);
    done('b');
    done('c');
    expect(await Promise.all([b, c])).toEqual([
      { ok: true, value: 'b' },
      { ok: true, value: 'c' },
    ]);
    expect([policy.active, policy.queued]).toEqual([0, 0]);
  });

  it('serves the queue in order, and a failure frees its slot too', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 3 });
    const order: string[] = [];
    const first = settle(
      policy.execute(async () => {
        await tick();
        order.push('first');
        throw new Error('boom');
      }),
    );
    const rest = ['q1', 'q2', 'q3'].map((name) => settle(policy.execute(() => (order.push(name), name))));
    expect((await first).ok).toBe(false);
    await Promise.all(rest);
    expect(order).toEqual(['first', 'q1', 'q2', 'q3']);
    expect(policy.active).toBe(0);
  });

  it('a queued caller that aborts leaves the queue and never runs', async () => {
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 2 });
    const { started, task, done } = tasks();
    const running = settle(policy.execute(task('running')));
    const controller = new AbortController();
    const leaving = settle(policy.execute(task('leaving'), { signal: controller.signal }));
    const staying = settle(policy.execute(task('staying')));
    await tick();
    controller.abort(new Error('not waiting'));
    expect(((await leaving) as { error: Error }).error.message).toBe('not waiting');
    expect(policy.queued).toBe(1);
    done('running');
    await running;
    await tick();
    done('staying');
    expect(await staying).toEqual({ ok: true, value: 'staying' });
    expect(started).toEqual(['running', 'staying']);
  });

  it('a queued caller whose deadline passes gets DeadlineExceededError', async () => {
    const clock = new FakeClock();
    const policy = bulkhead({ maxConcurrent: 1, maxQueue: 1, clock });
    const { task, done } = tasks();
    const running = settle(policy.execute(task('running')));
    const late = settle(policy.execute(task('late'), { deadline: 500 }));
    await clock.advance(500);
    expect(isDeadlineExceededError(((await late) as { error: unknown }).error)).toBe(true);
    expect(policy.queued).toBe(0);
    done('running');
    await running;
  });

  it('validates its options', () => {
    for (const options of [{}, { maxConcurrent: 0 }, { maxConcurrent: 1, maxQueue: -1 }, { maxConcurrent: 1, queue: 2 }]) {
      let error: unknown;
      try {
        bulkhead(options as never);
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error), JSON.stringify(options)).toBe(true);
    }
  });
});
