import type { BreakerSnapshot, Step } from './snapshot.js';

/**
 * Where a circuit breaker keeps its state. The breaker's logic is a set of pure transitions
 * (`snapshot → next snapshot + answer`); a store applies one atomically. The in-memory store below
 * is the default; a store-backed one (Redis, PostgreSQL) can share one circuit across a fleet by
 * running the same transitions under optimistic concurrency: read, apply, compare-and-set, and on
 * conflict read again and re-apply (transitions are pure, so re-running one is safe).
 */
export interface BreakerStateStore {
  /** A short name for events and errors. */
  readonly name: string;
  /**
   * Apply `transition` atomically to the current snapshot (`undefined` when nothing was stored
   * yet), store its `next` when it has one, and return its `result`.
   */
  update<R>(transition: (current: BreakerSnapshot | undefined) => Step<R>): R | Promise<R>;
  /** The stored snapshot, if any. */
  read(): BreakerSnapshot | undefined | Promise<BreakerSnapshot | undefined>;
}

/** Keeps the snapshot in this process. Transitions run synchronously, so each is atomic. */
export class MemoryBreakerStateStore implements BreakerStateStore {
  readonly name = 'memory';
  #snapshot: BreakerSnapshot | undefined;

  constructor(initial?: BreakerSnapshot) {
    this.#snapshot = initial;
  }

  update<R>(transition: (current: BreakerSnapshot | undefined) => Step<R>): R {
    const step = transition(this.#snapshot);
    if (step.next !== undefined) this.#snapshot = step.next;
    return step.result;
  }

  read(): BreakerSnapshot | undefined {
    return this.#snapshot;
  }
}
