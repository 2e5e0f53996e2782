/** Shared pieces of the engine tests: a store with faults injected, counters, gates. */
import type { BeginOptions, KeyRef, Store } from '../src/store/contract.js';

export interface Calls {
  begin: number;
  commit: number;
  release: number;
  extend: number;
}

export interface Faults {
  /** Throw this from `extend` instead of delegating. */
  extend?: () => Error | undefined;
  /** Throw this from `release` instead of delegating. */
  release?: () => Error | undefined;
}

/** A real store that counts calls and can have faults injected into some operations. */
export function instrumented(inner: Store, faults: Faults = {}): Store & { calls: Calls } {
  const calls: Calls = { begin: 0, commit: 0, release: 0, extend: 0 };
  return {
    name: `instrumented(${inner.name})`,
    calls,
    begin(ref: KeyRef, fingerprint: string, options: BeginOptions) {
      calls.begin++;
      return inner.begin(ref, fingerprint, options);
    },
    commit(ref, token, outcome, ttlMs) {
      calls.commit++;
      return inner.commit(ref, token, outcome, ttlMs);
    },
    async release(ref, token) {
      calls.release++;
      const fault = faults.release?.();
      if (fault) throw fault;
      return inner.release(ref, token);
    },
    async extend(ref, token, leaseMs) {
      calls.extend++;
      const fault = faults.extend?.();
      if (fault) throw fault;
      return inner.extend(ref, token, leaseMs);
    },
    get: (ref) => inner.get(ref),
    delete: (ref) => inner.delete(ref),
    list: (options) => inner.list(options),
    sweep: (options) => inner.sweep(options),
    ping: () => inner.ping(),
    close: () => inner.close(),
  };
}

/** A promise and the function that settles it, for functions that must block until told. */
export function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** What a settled promise rejected with (fails the test if it fulfilled). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection, the promise fulfilled');
}
