/**
 * The one time module: every part of Oncekey reads time through a {@link Clock} it is given, so
 * tests (ours and yours) run on fake time ({@link FakeClock} in ./fake-clock.ts).
 */

/** A source of time: what stores and the engine need. */
export interface Clock {
  /** Milliseconds since the epoch (policies only compare and subtract, so any fixed origin works for them). */
  now(): number;
}

/** An opaque handle returned by {@link TimerClock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Time and timers: what waits need (the resilience policies, the client). Every policy takes one
 * as its `clock` option. A TimerClock is a Clock, so one object can drive both.
 */
export interface TimerClock extends Clock {
  /** Run `callback` once, `ms` from now. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. It looks the globals up on every call instead of capturing them, so
 * `vi.useFakeTimers()` and similar tools installed later still take effect.
 */
export const systemClock: TimerClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/**
 * Wait `ms` on `clock`. Rejects with `signal.reason` as soon as `signal` aborts (also when it
 * already has), and clears its timer, so an aborted retry does not keep sleeping in the background.
 */
export function sleep(ms: number, signal?: AbortSignal, clock: TimerClock = systemClock): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    if (ms <= 0) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
