import { describe, expect, it } from 'vitest';
import { InProgressError, Oncekey, type InProgressEvent, type RunContext } from '../src/index.js';
import { memoryStore } from '../src/store/memory.js';
import { gate, instrumented, rejection } from './engine-helpers.js';

const ref = { scope: 'charges', key: 'order-1' };

describe('concurrent duplicates', () => {
  it("100 concurrent calls, onInProgress 'wait': fn runs once, all get its value, 99 replayed", async () => {
    const othersWaiting = gate();
    let waiting = 0;
    const oncekey = new Oncekey({
      store: memoryStore(),
      ttl: '1h',
      lease: '30s',
      hooks: { onInProgress: () => void (++waiting === 99 && othersWaiting.open()) },
    });
    let runs = 0;
    const fn = async () => {
      runs++;
      await othersWaiting.promise; // commit only once every duplicate is known to be waiting
      return { charge: 'ch_1', n: runs };
    };
    const results = await Promise.all(Array.from({ length: 100 }, () => oncekey.run(ref, { amount: 5 }, fn)));
    expect(runs).toBe(1);
    for (const r of results) expect(r.value).toEqual({ charge: 'ch_1', n: 1 });
    expect(results.filter((r) => r.replayed)).toHaveLength(99);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
  });

  it("100 concurrent calls, onInProgress 'throw': one runs, 99 get InProgressError at once", async () => {
    const othersRejected = gate();
    const events: InProgressEvent[] = [];
    const oncekey = new Oncekey({
      store: memoryStore(),
      ttl: '1h',
      lease: '30s',
      hooks: { onInProgress: (e) => void (events.push(e) === 99 && othersRejected.open()) },
    });
    let runs = 0;
    const fn = async () => {
      runs++;
      await othersRejected.promise;
      return 'done';
    };
    const settled = await Promise.allSettled(Array.from({ length: 100 }, () => oncekey.run(ref, 1, fn, { onInProgress: 'throw' })));
    const fulfilled = settled.filter((s) => s.status === 'fulfilled');
    const rejected = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(runs).toBe(1);
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(99);
    for (const r of rejected) {
      expect(r.reason).toBeInstanceOf(InProgressError);
      expect((r.reason as InProgressError).retryAfterMs).toBeGreaterThan(0);
      expect((r.reason as InProgressError).code).toBe('IN_PROGRESS');
    }
    expect(events.every((e) => e.action === 'throw' && e.attempt === 1)).toBe(true);
    // Once committed, the same key replays.
    expect(await oncekey.run(ref, 1, fn, { onInProgress: 'throw' })).toEqual({ value: 'done', replayed: true, attempt: 1 });
  });

  it('a waiter on another instance (no local wake-up) polls until the holder commits', async () => {
    const store = instrumented(memoryStore());
    const holderMayFinish = gate();
    const waiterWaiting = gate();
    const holder = new Oncekey({ store, ttl: '1h', lease: '30s' });
    const waiter = new Oncekey({
      store,
      ttl: '1h',
      lease: '30s',
      wait: { minDelay: 5, maxDelay: 20 },
      hooks: { onInProgress: () => waiterWaiting.open() },
    });
    let runs = 0;
    const first = holder.run(ref, 1, async () => {
      runs++;
      await holderMayFinish.promise;
      return 'holder';
    });
    const second = waiter.run(ref, 1, async () => {
      runs++;
      return 'waiter';
    });
    await waiterWaiting.promise;
    const beginsBefore = store.calls.begin;
    holderMayFinish.open();
    expect(await first).toEqual({ value: 'holder', replayed: false, attempt: 1 });
    expect(await second).toEqual({ value: 'holder', replayed: true, attempt: 1 });
    expect(store.calls.begin).toBeGreaterThan(beginsBefore);
    expect(runs).toBe(1);
  });

  it('when the holder fails and releases, a waiter acquires and runs fn itself', async () => {
    const store = memoryStore();
    const holderMayFail = gate();
    const waiterWaiting = gate();
    const holder = new Oncekey({ store, ttl: '1h', lease: '30s' });
    const waiter = new Oncekey({ store, ttl: '1h', lease: '30s', hooks: { onInProgress: () => waiterWaiting.open() } });
    let runs = 0;
    const first = holder.run(ref, 1, async () => {
      runs++;
      await holderMayFail.promise;
      throw new Error('holder failed');
    });
    const contexts: RunContext[] = [];
    const second = waiter.run(ref, 1, async (ctx) => {
      runs++;
      contexts.push(ctx);
      return 'waiter ran';
    });
    await waiterWaiting.promise;
    holderMayFail.open();
    expect(((await rejection(first)) as Error).message).toBe('holder failed');
    expect(await second).toEqual({ value: 'waiter ran', replayed: false, attempt: 1 });
    expect(runs).toBe(2);
    expect(contexts[0]).toMatchObject({ attempt: 1, recovered: false });
  });

  it('same-instance waiters are woken by the release and exactly one of them runs', async () => {
    const othersWaiting = gate();
    let waiting = 0;
    const oncekey = new Oncekey({
      store: memoryStore(),
      ttl: '1h',
      lease: '30s',
      hooks: { onInProgress: () => void (++waiting === 9 && othersWaiting.open()) },
    });
    let runs = 0;
    const fn = async () => {
      const run = ++runs;
      if (run === 1) {
        await othersWaiting.promise;
        throw new Error('first attempt failed');
      }
      return `run ${run}`;
    };
    const settled = await Promise.allSettled(Array.from({ length: 10 }, () => oncekey.run(ref, 1, fn)));
    const values = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
    expect(runs).toBe(2);
    expect(settled.filter((s) => s.status === 'rejected')).toHaveLength(1);
    expect(values).toHaveLength(9);
    expect(values.filter((v) => !v.replayed)).toHaveLength(1);
    for (const v of values) expect(v.value).toBe('run 2');
  });

  it('a waiter gives up with InProgressError after its wait timeout', async () => {
    const store = memoryStore();
    const holderMayFinish = gate();
    const holder = new Oncekey({ store, ttl: '1h', lease: '30s' });
    const first = holder.run(ref, 1, async () => {
      await holderMayFinish.promise;
      return 'late';
    });
    let runs = 0;
    const error = await rejection(holder.run(ref, 1, () => ++runs, { wait: { timeout: '60ms', minDelay: 5, maxDelay: 20 } }));
    expect(error).toBeInstanceOf(InProgressError);
    expect((error as InProgressError).retryAfterMs).toBeGreaterThan(0);
    expect(runs).toBe(0);
    holderMayFinish.open();
    expect((await first).value).toBe('late');
  });
});
