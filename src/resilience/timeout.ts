import { systemClock, type TimerClock } from '../core/time.js';
import { DeadlineExceededError, isDeadlineExceededError } from './errors/deadline-exceeded.js';
import { Emitter, type EventSource, type PolicyEvents } from './events.js';
import { assertKnownOptions, clockOption, nonNegative, oneOf, optional } from './options.js';
import type { ExecuteOptions, Policy, Task } from './policy.js';
import { openScope, runTask } from './scope.js';

export interface TimeoutOptions {
  /**
   * `cooperative` (default): at the deadline the task's signal aborts and the policy waits for
   * the task to settle; a task that still fails gets `DeadlineExceededError`, one that finishes
   * anyway keeps its result. `aggressive`: the policy rejects at the deadline (or when the
   * caller aborts) without waiting, for tasks that ignore their signal; the task's late outcome is
   * dropped.
   */
  readonly strategy?: 'cooperative' | 'aggressive';
  readonly clock?: TimerClock;
}

export type TimeoutEvents = Pick<PolicyEvents, 'timeout' | 'success' | 'failure'>;

/**
 * Bounds how long a task may run. Its deadline joins the one flowing through `wrap(...)`: the
 * earlier of the two wins, and inner layers (a retry, say) see it and plan around it.
 */
export class TimeoutPolicy implements Policy, EventSource<TimeoutEvents> {
  readonly #events = new Emitter<TimeoutEvents>();
  readonly #clock: TimerClock;
  readonly #aggressive: boolean;

  constructor(
    readonly timeoutMs: number,
    options: TimeoutOptions = {},
  ) {
    nonNegative('timeout.timeoutMs', timeoutMs);
    assertKnownOptions('timeout', options, ['strategy', 'clock']);
    const strategy = optional(options.strategy, 'cooperative', (v) => oneOf('timeout.strategy', v, ['cooperative', 'aggressive'] as const));
    this.#aggressive = strategy === 'aggressive';
    this.#clock = optional(options.clock, systemClock, (v) => clockOption<TimerClock>('timeout.clock', v));
  }

  on<K extends keyof TimeoutEvents>(name: K, listener: (event: TimeoutEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  async execute<T>(task: Task<T>, options?: ExecuteOptions): Promise<T> {
    const began = this.#clock.now();
    const own = began + this.timeoutMs;
    const scope = openScope(options, this.#clock, own);
    const { signal } = scope.context;
    // Only when our own deadline is the one that fires is this a timeout of ours to report.
    const ours = (): boolean => isDeadlineExceededError(signal.reason) && scope.context.deadline === own;
    let timedOut = false;
    const onAbort = (): void => {
      if (!ours()) return;
      timedOut = true;
      this.#events.emit('timeout', { timeoutMs: this.timeoutMs, deadline: own });
    };
    try {
      if (signal.aborted) {
        onAbort();
        throw signal.reason;
      }
      signal.addEventListener('abort', onAbort, { once: true });
      const running = runTask(task, scope.context);
      const value = this.#aggressive ? await this.#race(running, signal) : await running;
      this.#events.emit('success', { durationMs: this.#clock.now() - began });
      return value;
    } catch (caught) {
      const error = timedOut && caught !== signal.reason ? new DeadlineExceededError(own, { cause: caught }) : caught;
      this.#events.emit('failure', { durationMs: this.#clock.now() - began, error });
      throw error;
    } finally {
      signal.removeEventListener('abort', onAbort);
      scope.close();
    }
  }

  /** Settle with the task, or with the signal's reason as soon as it aborts. */
  #race<T>(running: Promise<T>, signal: AbortSignal): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      running.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  }
}

/** A timeout of `timeoutMs`; see {@link TimeoutPolicy}. */
export const timeout = (timeoutMs: number, options?: TimeoutOptions): TimeoutPolicy => new TimeoutPolicy(timeoutMs, options);
