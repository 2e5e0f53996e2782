/**
 * Deadlines for store calls, shared by the PostgreSQL and Redis stores: a call that gets no
 * answer in time is rejected with an error of the store's choosing, so nothing waits forever.
 */

/** One bounded call: settled by its promise, or expired by the sweep, whichever comes first. */
class Pending {
  settled = false;
  constructor(
    readonly at: number,
    readonly ms: number,
    readonly what: string,
    readonly reject: (error: unknown) => void,
  ) {}
}

/** How a store names its failures: given once, so a call allocates no error closures. */
export interface DeadlineErrors {
  /** The error for a call named `what` that got no answer within `ms`. */
  timeout(what: string, ms: number): Error;
  /** What a rejection of the call named `what` becomes. */
  failure(what: string, error: unknown): unknown;
}

/**
 * Deadlines for many calls on one shared timer. A timer per call costs more CPU than the rest of
 * the store's own work per call (measured), and so did a Set of pending calls: calls go in an
 * array, a settled call is only flagged, and the sweep drops both the settled and the expired.
 * A deadline that is a safety net of seconds needs no more precision than the sweep interval.
 */
export class Deadlines {
  #pending: Pending[] = [];
  #compactAt = 1024;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly errors: DeadlineErrors,
    private readonly sweepMs = 100,
  ) {}

  /**
   * `promise` (its value through `map`), or a rejection with `errors.timeout(what, ms)` once `ms`
   * (+ up to one sweep) have passed. A rejection of `promise` goes through `errors.failure`. One
   * promise per call.
   */
  bound<R, T = R>(promise: Promise<R>, ms: number, what: string, map?: (value: R) => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry = new Pending(Date.now() + ms, ms, what, reject);
      // Between sweeps (a burst that never yields to timers), settled calls are dropped here:
      // the array stays about twice the calls in flight, amortised O(1) per call.
      if (this.#pending.push(entry) >= this.#compactAt) {
        this.#pending = this.#pending.filter((p) => !p.settled);
        this.#compactAt = Math.max(1024, this.#pending.length * 2);
      }
      if (this.#timer === undefined) {
        this.#timer = setInterval(() => this.#sweep(), this.sweepMs);
        // Pending calls keep the process alive through their sockets, not through this timer.
        this.#timer.unref();
      }
      promise.then(
        (value) => {
          entry.settled = true;
          if (!map) return resolve(value as unknown as T);
          try {
            resolve(map(value));
          } catch (error) {
            reject(error);
          }
        },
        (error: unknown) => {
          entry.settled = true;
          reject(this.errors.failure(what, error));
        },
      );
    });
  }

  #sweep(): void {
    const now = Date.now();
    const waiting: Pending[] = [];
    for (const entry of this.#pending) {
      if (entry.settled) continue;
      if (entry.at > now) {
        waiting.push(entry);
        continue;
      }
      entry.settled = true;
      entry.reject(this.errors.timeout(entry.what, entry.ms));
    }
    this.#pending = waiting;
    if (waiting.length === 0 && this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
