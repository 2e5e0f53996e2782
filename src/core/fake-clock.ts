import type { TimerClock, TimerHandle } from './time.js';

interface Timer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/** Let every queued promise callback run: one macrotask hop drains the whole microtask queue. */
const drainMicrotasks = (): Promise<void> =>
  new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));

/**
 * A deterministic clock for tests: time moves only when you call {@link advance} (or
 * {@link runAll}); timers fire in time order (ties in creation order) and promise callbacks
 * queued by one timer run before the next timer fires, so `await clock.advance(1000)` behaves like
 * one second of real time without waiting for it.
 */
export class FakeClock implements TimerClock {
  #now: number;
  #nextId = 1;
  readonly #timers = new Map<number, Timer>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(callback: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, at: this.#now + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** How many timers are waiting to fire. */
  get pendingTimers(): number {
    return this.#timers.size;
  }

  /** When the next timer fires, or undefined when none is pending. */
  get nextTimerAt(): number | undefined {
    return this.#earliest()?.at;
  }

  /** Let queued promise callbacks run without moving time. */
  async flush(): Promise<void> {
    await drainMicrotasks();
  }

  /** Move time forward by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  /** Move time forward to `time`, firing every timer due at or before it. */
  async advanceTo(time: number): Promise<void> {
    await drainMicrotasks();
    for (;;) {
      const timer = this.#earliest();
      if (timer === undefined || timer.at > time) break;
      this.#fire(timer);
      await drainMicrotasks();
    }
    this.#now = Math.max(this.#now, time);
    await drainMicrotasks();
  }

  /**
   * Fire timers one after another (moving time to each) until none is left. Throws after
   * `limit` timers, which means something keeps rescheduling itself.
   */
  async runAll(limit = 10_000): Promise<void> {
    await drainMicrotasks();
    for (let fired = 0; ; fired++) {
      const timer = this.#earliest();
      if (timer === undefined) return;
      if (fired >= limit) throw new Error(`FakeClock.runAll: still ${this.#timers.size} timers after ${limit}`);
      this.#fire(timer);
      await drainMicrotasks();
    }
  }

  #fire(timer: Timer): void {
    this.#timers.delete(timer.id);
    this.#now = Math.max(this.#now, timer.at);
    timer.callback();
  }

  #earliest(): Timer | undefined {
    let best: Timer | undefined;
    for (const timer of this.#timers.values()) {
      if (best === undefined || timer.at < best.at || (timer.at === best.at && timer.id < best.id)) best = timer;
    }
    return best;
  }
}
