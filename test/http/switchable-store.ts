/** A store that can be switched off: every call throws StoreUnavailableError while `down`. */
import { StoreUnavailableError } from '../../src/core/errors/store-unavailable.js';
import type { Store } from '../../src/store/contract.js';

export interface SwitchableStore extends Store {
  down: boolean;
}

export function switchableStore(inner: Store): SwitchableStore {
  const guard =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    (...args: A): Promise<R> =>
      wrapper.down ? Promise.reject(new StoreUnavailableError('switchable', 'switched off by the test')) : fn(...args);
  const wrapper: SwitchableStore = {
    name: `switchable(${inner.name})`,
    down: false,
    begin: guard((ref, fp, o) => inner.begin(ref, fp, o)),
    commit: guard((ref, token, outcome, ttl) => inner.commit(ref, token, outcome, ttl)),
    release: guard((ref, token) => inner.release(ref, token)),
    extend: guard((ref, token, lease) => inner.extend(ref, token, lease)),
    get: guard((ref) => inner.get(ref)),
    delete: guard((ref) => inner.delete(ref)),
    list: guard((o) => inner.list(o)),
    sweep: guard((o) => inner.sweep(o)),
    ping: guard(() => inner.ping()),
    close: () => inner.close(),
  };
  return wrapper;
}
