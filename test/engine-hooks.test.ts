import { describe, expect, it } from 'vitest';
import { Oncekey, type EngineErrorEvent, type OncekeyHooks } from '../src/index.js';
import { memoryStore } from '../src/store/memory.js';
import { gate, rejection } from './engine-helpers.js';

const ref = { scope: 'charges', key: 'order-1' };

/** A fake clock that advances 5 ms each time it is read, so durations are predictable. */
function tickingClock() {
  let t = 1_000;
  return { now: () => (t += 5) };
}

function recorder() {
  const events: Array<[string, unknown]> = [];
  const hooks: OncekeyHooks = {};
  for (const name of [
    'onAcquire',
    'onRecover',
    'onReplay',
    'onMismatch',
    'onInProgress',
    'onCommit',
    'onRelease',
    'onLeaseLost',
    'onError',
  ] as const) {
    hooks[name] = (event: never) => void events.push([name, event]);
  }
  return { events, hooks };
}

describe('hooks', () => {
  it('fire with the right data through acquire, commit, replay and mismatch', async () => {
    const { events, hooks } = recorder();
    const clock = tickingClock();
    const oncekey = new Oncekey({ store: memoryStore({ clock }), ttl: '1h', lease: '30s', clock, hooks });
    await oncekey.run(ref, 1, () => 'ok');
    await oncekey.run(ref, 1, () => 'never');
    await rejection(oncekey.run(ref, 2, () => 'never'));
    expect(events).toEqual([
      ['onAcquire', { ref, attempt: 1, recovered: false, leaseUntil: expect.any(Number) }],
      ['onCommit', { ref, attempt: 1, durationMs: expect.any(Number), error: false }],
      ['onReplay', { ref, attempt: 1, completedAt: expect.any(Number), error: false }],
      ['onMismatch', { ref, state: 'completed' }],
    ]);
    const acquire = events[0]![1] as { leaseUntil: number };
    expect(acquire.leaseUntil).toBeGreaterThan(1_000 + 30_000);
    expect((events[1]![1] as { durationMs: number }).durationMs).toBeGreaterThan(0);
  });

  it('report releases with their cause, cached errors as commits, and in-progress meetings', async () => {
    const { events, hooks } = recorder();
    const oncekey = new Oncekey({ store: memoryStore(), ttl: '1h', lease: '30s', hooks });
    const boom = new Error('boom');
    await rejection(
      oncekey.run(ref, 1, () => {
        throw boom;
      }),
    );
    await rejection(
      oncekey.run(
        ref,
        1,
        () => {
          throw boom;
        },
        { cacheErrors: true },
      ),
    );
    await rejection(oncekey.run(ref, 1, () => 'never'));
    const names = events.map(([name]) => name);
    expect(names).toEqual(['onAcquire', 'onRelease', 'onAcquire', 'onCommit', 'onReplay']);
    expect(events[1]![1]).toEqual({ ref, attempt: 1, durationMs: expect.any(Number), error: boom });
    expect(events[3]![1]).toMatchObject({ ref, attempt: 1, error: true });
    expect(events[4]![1]).toMatchObject({ ref, attempt: 1, error: true });

    events.length = 0;
    const other = { scope: 'charges', key: 'order-2' };
    const holderMayFinish = gate();
    const holder = oncekey.run(other, 1, () => holderMayFinish.promise.then(() => 'done'));
    await rejection(oncekey.run(other, 1, () => 'never', { onInProgress: 'throw' }));
    holderMayFinish.open();
    await holder;
    expect(events.find(([name]) => name === 'onInProgress')?.[1]).toEqual({
      ref: other,
      attempt: 1,
      retryAfterMs: expect.any(Number),
      action: 'throw',
    });
  });

  it('a throwing or rejecting hook never breaks the operation; it is reported to onError', async () => {
    const reported: EngineErrorEvent[] = [];
    const oncekey = new Oncekey({
      store: memoryStore(),
      ttl: '1h',
      lease: '30s',
      hooks: {
        onAcquire: () => {
          throw new Error('acquire hook bug');
        },
        onCommit: () => Promise.reject(new Error('async commit hook bug')),
        onReplay: () => {
          throw new Error('replay hook bug');
        },
        onError: (e) => void reported.push(e),
      },
    });
    let runs = 0;
    expect(await oncekey.run(ref, 1, () => ++runs)).toEqual({ value: 1, replayed: false, attempt: 1 });
    expect(await oncekey.run(ref, 1, () => ++runs)).toEqual({ value: 1, replayed: true, attempt: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(runs).toBe(1);
    expect(reported.map((e) => [e.during, (e.error as Error).message]).sort()).toEqual([
      ['hook:onAcquire', 'acquire hook bug'],
      ['hook:onCommit', 'async commit hook bug'],
      ['hook:onReplay', 'replay hook bug'],
    ]);
  });

  it('a throwing onError becomes a process warning, and the operation still succeeds', async () => {
    const warnings: Error[] = [];
    const listener = (w: Error) => warnings.push(w);
    process.on('warning', listener);
    try {
      const oncekey = new Oncekey({
        store: memoryStore(),
        ttl: '1h',
        lease: '30s',
        hooks: {
          onAcquire: () => {
            throw new Error('first bug');
          },
          onError: () => {
            throw new Error('second bug');
          },
        },
      });
      expect(await oncekey.run(ref, 1, () => 'fine')).toMatchObject({ value: 'fine' });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', listener);
    }
    const messages = warnings.map((w) => w.message).join('\n');
    expect(messages).toContain('second bug');
    expect(messages).toContain('first bug');
  });
});
