import type { Clock as StoreClock } from '../store/contract.js';

/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Time and timers for the policies. Every policy takes one as its `clock` option, so tests (ours
 * and yours) run on fake time. It is a superset of the stores' `Clock`, so one object can drive both.
 */
export interface Clock extends StoreClock {
  /** Milliseconds since the epoch (or any fixed origin: policies only compare and subtract). */
  now(): number;
  /** Run `callback` once, `ms` from now. */
  setTimeout(callback: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/**
 * The real clock. It looks the globals up on every call instead of capturing them, so
 * `vi.useFakeTimers()` and similar tools installed later still take effect.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof globalThis.setTimeout>),
};

/**
 * Wait `ms` on `clock`. Rejects with `signal.reason` as soon as `signal` aborts (also when it
 * already has), and clears its timer, so an aborted retry does not keep sleeping in the background.
 */
export function sleep(ms: number, signal?: AbortSignal, clock: Clock = systemClock): Promise<void> {
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
