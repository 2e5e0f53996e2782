import { describe, expect, it } from 'vitest';
import { sleep, systemClock } from './time.js';
import { FakeClock } from './fake-clock.js';

describe('FakeClock', () => {
  it('fires timers in time order, ties in creation order, only when time moves', async () => {
    const clock = new FakeClock(1000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('b@30'), 30);
    clock.setTimeout(() => fired.push('a@10'), 10);
    clock.setTimeout(() => fired.push('c@30'), 30);
    const cancelled = clock.setTimeout(() => fired.push('never'), 20);
    clock.clearTimeout(cancelled);
    expect(fired).toEqual([]);
    await clock.advance(10);
    expect(fired).toEqual(['a@10']);
    expect(clock.now()).toBe(1010);
    await clock.advance(100);
    expect(fired).toEqual(['a@10', 'b@30', 'c@30']);
    expect(clock.now()).toBe(1110);
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs promise callbacks queued by one timer before the next fires', async () => {
    const clock = new FakeClock();
    const log: string[] = [];
    clock.setTimeout(() => {
      void Promise.resolve()
        .then(() => Promise.resolve())
        .then(() => {
          log.push('chain done');
          clock.setTimeout(() => log.push('scheduled by chain'), 5);
        });
    }, 10);
    clock.setTimeout(() => log.push('second timer'), 12);
    await clock.advance(20);
    expect(log).toEqual(['chain done', 'second timer', 'scheduled by chain']);
  });

  it('runAll jumps from timer to timer and stops a runaway loop', async () => {
    const clock = new FakeClock();
    let count = 0;
    const again = (): void => {
      count++;
      clock.setTimeout(again, 1000);
    };
    clock.setTimeout(again, 1000);
    await expect(clock.runAll(50)).rejects.toThrow(/still 1 timers/);
    expect(count).toBe(50);
  });
});

describe('sleep', () => {
  it('resolves after the delay on the given clock', async () => {
    const clock = new FakeClock();
    let done = false;
    void sleep(500, undefined, clock).then(() => (done = true));
    await clock.advance(499);
    expect(done).toBe(false);
    await clock.advance(1);
    expect(done).toBe(true);
  });

  it('rejects with the reason as soon as the signal aborts and clears its timer', async () => {
    const clock = new FakeClock();
    const controller = new AbortController();
    const slept = sleep(10_000, controller.signal, clock);
    await clock.advance(100);
    controller.abort(new Error('stop'));
    await expect(slept).rejects.toThrow('stop');
    expect(clock.pendingTimers).toBe(0);
  });

  it('rejects at once when the signal has already aborted, and resolves at once for 0 ms', async () => {
    const clock = new FakeClock();
    await expect(sleep(10, AbortSignal.abort(new Error('early')), clock)).rejects.toThrow('early');
    await expect(sleep(0, undefined, clock)).resolves.toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('works on the system clock for a few milliseconds', async () => {
    const before = systemClock.now();
    await sleep(2, undefined, systemClock);
    expect(systemClock.now()).toBeGreaterThanOrEqual(before);
  });
});
