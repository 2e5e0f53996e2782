import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  InProgressError,
  LeaseLostError,
  Oncekey,
  StoreUnavailableError,
  type EngineErrorEvent,
  type LeaseLostEvent,
  type RecoverEvent,
  type RunContext,
} from '../src/index.js';
import { memoryStore } from '../src/store/memory.js';
import { gate, instrumented, rejection } from './engine-helpers.js';

const ref = { scope: 'jobs', key: 'job-1' };
// Date.now is faked below, so the store and the engine share the test's virtual time.
const clock = { now: () => Date.now() };

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'], now: 0 });
});
afterEach(() => {
  vi.useRealTimers();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('heartbeat and lease loss', () => {
  it('keeps the key of a function that runs longer than three leases; nobody takes over', async () => {
    const store = instrumented(memoryStore({ clock }));
    const lost: LeaseLostEvent[] = [];
    const oncekey = new Oncekey({ store, ttl: '1h', lease: 1000, clock, hooks: { onLeaseLost: (e) => lost.push(e) } });
    let signal: AbortSignal | undefined;
    const long = oncekey.run(ref, 1, async (ctx) => {
      signal = ctx.signal;
      await sleep(3500);
      return 'long work done';
    });
    await vi.advanceTimersByTimeAsync(2500);
    let otherRuns = 0;
    const other = await rejection(oncekey.run(ref, 1, () => ++otherRuns, { onInProgress: 'throw' }));
    expect(other).toBeInstanceOf(InProgressError);
    expect((await store.get(ref))?.attempt).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(await long).toEqual({ value: 'long work done', replayed: false, attempt: 1 });
    expect(signal?.aborted).toBe(false);
    expect(otherRuns).toBe(0);
    expect(lost).toEqual([]);
    expect(store.calls.extend).toBeGreaterThanOrEqual(10); // every lease/3 for 3.5 leases
    expect(vi.getTimerCount()).toBe(0); // heartbeat timers cleared
  });

  it('a lease that cannot be renewed aborts the signal; the taker-over’s result is the one kept', async () => {
    let extendBlocked = false;
    const store = instrumented(memoryStore({ clock }), {
      extend: () => (extendBlocked ? new StoreUnavailableError('test', 'extend blocked') : undefined),
    });
    const lost: LeaseLostEvent[] = [];
    const errors: EngineErrorEvent[] = [];
    const recovered: RecoverEvent[] = [];
    const hooks = {
      onLeaseLost: (e: LeaseLostEvent) => lost.push(e),
      onError: (e: EngineErrorEvent) => errors.push(e),
      onRecover: (e: RecoverEvent) => recovered.push(e),
    };
    const first = new Oncekey({ store, ttl: '1h', lease: 1000, clock, hooks });
    const second = new Oncekey({ store, ttl: '1h', lease: 1000, clock, hooks });

    const firstMayReturn = gate();
    let firstSignal: AbortSignal | undefined;
    extendBlocked = true;
    const firstCall = first.run(ref, 1, async (ctx) => {
      firstSignal = ctx.signal;
      await firstMayReturn.promise; // ignores the signal: finishes anyway
      return 'first';
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(firstSignal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(firstSignal?.aborted).toBe(true);
    expect(firstSignal?.reason).toBeInstanceOf(LeaseLostError);
    expect(lost).toHaveLength(1);
    expect(lost[0]).toMatchObject({ ref, attempt: 1 });
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.every((e) => e.during === 'extend' && e.error instanceof StoreUnavailableError)).toBe(true);

    const contexts: RunContext[] = [];
    const secondResult = await second.run(ref, 1, async (ctx) => {
      contexts.push(ctx);
      return 'second';
    });
    expect(secondResult).toEqual({ value: 'second', replayed: false, attempt: 2 });
    expect(contexts[0]).toMatchObject({ attempt: 2, recovered: true });
    expect(recovered).toEqual([{ ref, attempt: 2 }]);

    firstMayReturn.open();
    const firstError = await rejection(firstCall);
    expect(firstError).toBeInstanceOf(LeaseLostError);
    expect(lost).toHaveLength(1); // reported once per holder

    expect(await first.run(ref, 1, () => 'third')).toEqual({ value: 'second', replayed: true, attempt: 2 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('an extend answered with LeaseLost (record deleted) aborts at once; the commit fails with LeaseLostError', async () => {
    const store = memoryStore({ clock });
    const lost: LeaseLostEvent[] = [];
    const oncekey = new Oncekey({ store, ttl: '1h', lease: 900, clock, hooks: { onLeaseLost: (e) => lost.push(e) } });
    const mayReturn = gate();
    let signal: AbortSignal | undefined;
    const call = oncekey.run(ref, 1, async (ctx) => {
      signal = ctx.signal;
      await mayReturn.promise;
      return 'stale';
    });
    await vi.advanceTimersByTimeAsync(100);
    expect(await store.delete(ref)).toBe(true);
    await vi.advanceTimersByTimeAsync(200); // first heartbeat at 300 ms
    expect(signal?.aborted).toBe(true);
    expect(lost).toHaveLength(1);
    mayReturn.open();
    expect(await rejection(call)).toBeInstanceOf(LeaseLostError);
    expect(await store.get(ref)).toBeUndefined(); // nothing stored by the stale holder
  });

  it('a function that honours the signal stops; its error is never cached', async () => {
    const store = instrumented(memoryStore({ clock }), { extend: () => new StoreUnavailableError('test', 'down') });
    const oncekey = new Oncekey({ store, ttl: '1h', lease: 600, clock, hooks: { onError: () => {} } });
    let stoppedAt: number | undefined;
    const call = oncekey.run(
      ref,
      1,
      async ({ signal }) => {
        await new Promise<void>((_, reject) =>
          signal.addEventListener('abort', () => {
            stoppedAt = Date.now();
            reject(signal.reason);
          }),
        );
      },
      { cacheErrors: true },
    );
    const outcome = rejection(call); // handled before it settles
    await vi.advanceTimersByTimeAsync(600);
    expect(await outcome).toBeInstanceOf(LeaseLostError);
    expect(stoppedAt).toBe(600);
    expect(await store.get(ref)).toBeUndefined(); // released, not stored as a final error
    expect(await oncekey.run(ref, 1, () => 'retried')).toEqual({ value: 'retried', replayed: false, attempt: 1 });
  });

  it('an extend that never answers does not hold the deadline back: the signal aborts when the lease ends', async () => {
    const inner = memoryStore({ clock });
    const store = { ...instrumented(inner), extend: () => new Promise<number>(() => {}) };
    const lost: LeaseLostEvent[] = [];
    const oncekey = new Oncekey({ store, ttl: '1h', lease: 900, clock, hooks: { onLeaseLost: (e) => lost.push(e) } });
    let signal: AbortSignal | undefined;
    const mayReturn = gate();
    const call = oncekey.run(ref, 1, async (ctx) => {
      signal = ctx.signal;
      await mayReturn.promise;
      return 'done';
    });
    await vi.advanceTimersByTimeAsync(899); // the first extend went out at 300 ms and hangs
    expect(signal?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(signal?.aborted).toBe(true);
    expect(signal?.reason).toBeInstanceOf(LeaseLostError);
    expect(lost).toHaveLength(1);
    mayReturn.open();
    expect(await call).toEqual({ value: 'done', replayed: false, attempt: 1 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a signal first read after the lease was lost is already aborted with the LeaseLostError', async () => {
    const store = instrumented(memoryStore({ clock }), { extend: () => new StoreUnavailableError('test', 'down') });
    const lost: LeaseLostEvent[] = [];
    const oncekey = new Oncekey({ store, ttl: '1h', lease: 600, clock, hooks: { onLeaseLost: (e) => lost.push(e), onError: () => {} } });
    const mayLook = gate();
    let seen: { aborted: boolean; reason: unknown; same: boolean; spread: boolean } | undefined;
    const call = oncekey.run(ref, 1, async (ctx) => {
      await mayLook.promise; // never touches ctx.signal before the lease is gone
      const { signal } = ctx;
      seen = { aborted: signal.aborted, reason: signal.reason, same: ctx.signal === signal, spread: { ...ctx }.signal === signal };
      return 'late';
    });
    await vi.advanceTimersByTimeAsync(600);
    expect(lost).toHaveLength(1);
    mayLook.open();
    // Nobody took over, so the fenced commit still succeeds: losing the lease is a warning, not a verdict.
    expect(await call).toEqual({ value: 'late', replayed: false, attempt: 1 });
    expect(seen).toEqual({ aborted: true, reason: lost[0]!.error, same: true, spread: true });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('takes over the expired lease of a crashed holder: recovered, attempt 2', async () => {
    const store = memoryStore({ clock });
    const recovered: RecoverEvent[] = [];
    const oncekey = new Oncekey({ store, ttl: '1h', lease: '10s', clock, hooks: { onRecover: (e) => recovered.push(e) } });
    // A holder that acquired the key with the same fingerprint and then crashed (never commits).
    const print = (await import('../src/index.js')).fingerprint({ n: 1 });
    const crashed = await store.begin(ref, print, { leaseMs: 10_000, ttlMs: 3_600_000 });
    expect(crashed.kind).toBe('acquired');

    let runs = 0;
    const early = await rejection(oncekey.run(ref, { n: 1 }, () => ++runs, { onInProgress: 'throw' }));
    expect((early as InProgressError).retryAfterMs).toBe(10_000);

    // A waiter sleeps until the lease can be taken over, then runs fn itself.
    const waiting = oncekey.run(ref, { n: 1 }, (ctx) => ({ runs: ++runs, recovered: ctx.recovered, attempt: ctx.attempt }), {
      wait: { timeout: '20s' },
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await waiting).toEqual({ value: { runs: 1, recovered: true, attempt: 2 }, replayed: false, attempt: 2 });
    expect(recovered).toEqual([{ ref, attempt: 2 }]);
  });

  it('clears every timer on every path', async () => {
    const store = memoryStore({ clock });
    const oncekey = new Oncekey({ store, ttl: '1h', lease: 300, clock });
    await oncekey.run({ scope: 's', key: 'ok' }, 1, () => 'ok');
    await rejection(
      oncekey.run({ scope: 's', key: 'err' }, 1, () => {
        throw new Error('x');
      }),
    );
    await rejection(oncekey.run({ scope: 's', key: 'bad' }, 1, () => ({ d: new Date() })));
    await oncekey
      .run(
        { scope: 's', key: 'cached' },
        1,
        () => {
          throw new Error('y');
        },
        { cacheErrors: true },
      )
      .catch(() => {});
    expect(vi.getTimerCount()).toBe(0);
  });
});
