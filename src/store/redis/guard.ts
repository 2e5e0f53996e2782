/**
 * Every call of the Redis store has a deadline and fails closed: no answer in time, or any error
 * from the driver or the server, becomes a {@link StoreUnavailableError}.
 *
 * ioredis' own `commandTimeout` does not bound every wait (a caller's client may have none, or may
 * queue commands while disconnected), so the store keeps deadlines of its own. One timer per store
 * checks them, instead of one timer per call, because a timer per call cost more than the rest of
 * the store's own work on the hot path. A call is therefore failed between `timeoutMs` and
 * `timeoutMs + 2 ticks` after it started (a tick is a tenth of the timeout, 5 to 100 ms).
 *
 * A command abandoned here may still reach Redis later: the scripts are fenced, so a late `begin`
 * at worst holds its key for one lease, and a late `commit`/`release`/`extend` with a stale token
 * does nothing.
 */
import { OncekeyError } from '../../errors/oncekey-error.js';
import { StoreUnavailableError } from '../../errors/store-unavailable.js';

interface Pending {
  readonly deadline: number;
  readonly what: string;
  readonly reject: (error: unknown) => void;
}

export class CallGuard {
  private readonly pending = new Set<Pending>();
  private timer: NodeJS.Timeout | undefined;
  private readonly tickMs: number;
  /** Deadlines count ticks of the timer, so a call reads no clock. */
  private ticks = 0;
  private readonly timeoutTicks: number;

  constructor(private readonly timeoutMs: number) {
    this.tickMs = Math.min(100, Math.max(5, Math.floor(timeoutMs / 10)));
    // +1: a call may start just before a tick.
    this.timeoutTicks = Math.ceil(timeoutMs / this.tickMs) + 1;
  }

  /** Run `work`; reject with StoreUnavailableError when it fails or outlives the deadline. */
  run<T>(what: string, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { deadline: this.ticks + this.timeoutTicks, what, reject };
      this.pending.add(entry);
      this.timer ??= setInterval(() => this.check(), this.tickMs);
      let started: Promise<T>;
      try {
        started = work();
      } catch (error) {
        started = Promise.reject(error);
      }
      started.then(
        (value) => {
          this.pending.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.pending.delete(entry);
          reject(unavailable(what, error));
        },
      );
    });
  }

  private check(): void {
    if (this.pending.size === 0) {
      // Idle for a whole tick: stop until the next call.
      clearInterval(this.timer);
      this.timer = undefined;
      return;
    }
    const now = ++this.ticks;
    for (const entry of this.pending) {
      if (entry.deadline > now) continue;
      this.pending.delete(entry);
      entry.reject(new StoreUnavailableError('redis', `${entry.what} got no answer within ${this.timeoutMs} ms`));
    }
  }
}

/** Oncekey's own errors pass through; anything from the driver or the server is unavailability. */
function unavailable(what: string, error: unknown): unknown {
  if (error instanceof OncekeyError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError('redis', `${what} failed: ${detail}`, { cause: error });
}
