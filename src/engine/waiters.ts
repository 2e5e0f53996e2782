/**
 * Sleeps of callers waiting for a key held in this process. A local commit or release wakes them
 * at once, so same-process duplicates do not wait for their next poll; callers waiting on a holder
 * in another process simply sleep out their backoff. These timers are not unref'd: the caller is
 * awaiting them.
 */
import type { KeyRef } from '../store/contract.js';

export class LocalWaiters {
  readonly #sleepers = new Map<string, Set<() => void>>();

  sleep(ref: KeyRef, ms: number): Promise<void> {
    const id = idOf(ref);
    return new Promise((resolve) => {
      let sleepers = this.#sleepers.get(id);
      if (sleepers === undefined) this.#sleepers.set(id, (sleepers = new Set()));
      const set = sleepers;
      const done = (): void => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.#sleepers.get(id) === set) this.#sleepers.delete(id);
        resolve();
      };
      const timer = setTimeout(done, ms);
      set.add(done);
    });
  }

  wake(ref: KeyRef): void {
    const sleepers = this.#sleepers.get(idOf(ref));
    if (sleepers !== undefined) for (const done of [...sleepers]) done();
  }
}

const idOf = (ref: KeyRef): string => `${ref.scope}\0${ref.key}`;
