/**
 * A Store that times every call it passes on, for the store latency histogram. It changes
 * nothing else: same answers, same errors, same atomicity.
 */
import type { Store } from '../store/contract.js';

/** Receives one observation per store call. */
export type StoreObserver = (operation: string, result: 'ok' | 'error', seconds: number) => void;

const TIMED = ['begin', 'commit', 'release', 'extend', 'get', 'delete', 'list', 'sweep', 'ping'] as const;

/** `store` with each call timed by `observe`; `close` passes through untimed. */
export function instrumentStore(store: Store, observe: StoreObserver): Store {
  const timed =
    <A extends unknown[], R>(operation: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const start = performance.now();
      try {
        const value = await call(...args);
        observe(operation, 'ok', (performance.now() - start) / 1000);
        return value;
      } catch (error) {
        observe(operation, 'error', (performance.now() - start) / 1000);
        throw error;
      }
    };
  const wrapped: Record<string, unknown> = { name: store.name, close: () => store.close() };
  for (const operation of TIMED) {
    const method = store[operation] as (...args: unknown[]) => Promise<unknown>;
    wrapped[operation] = timed(operation, method.bind(store));
  }
  return wrapped as unknown as Store;
}
