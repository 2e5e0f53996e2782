import { systemClock, type TimerClock } from '../core/time.js';
import { Emitter, type EventSource, type PolicyEvents } from './events.js';
import { assertKnownOptions, clockOption, func, optional } from './options.js';
import type { ExecuteContext, ExecuteOptions, Policy, Task } from './policy.js';
import { isCancelled, openScope, runTask } from './scope.js';

export interface FallbackOptions {
  /** Which errors the fallback answers. Default: all (except the caller cancelling). */
  readonly handles?: (error: unknown) => boolean;
  readonly clock?: TimerClock;
}

export type FallbackEvents = Pick<PolicyEvents, 'success' | 'failure'>;

/**
 * Answers a failed task with a value of its own (a cached copy, a default), computed from the
 * error. A caller that cancelled gets its cancellation, not a fallback value.
 */
export class FallbackPolicy<F> implements Policy<F>, EventSource<FallbackEvents> {
  readonly #events = new Emitter<FallbackEvents>();
  readonly #handles: (error: unknown) => boolean;
  readonly #clock: TimerClock;

  constructor(
    private readonly handler: (error: unknown, context: ExecuteContext) => F | PromiseLike<F>,
    options: FallbackOptions = {},
  ) {
    func('fallback.handler', handler);
    assertKnownOptions('fallback', options, ['handles', 'clock']);
    this.#handles = optional(
      options.handles,
      () => true,
      (v) => func('fallback.handles', v),
    );
    this.#clock = optional(options.clock, systemClock, (v) => clockOption<TimerClock>('fallback.clock', v));
  }

  on<K extends keyof FallbackEvents>(name: K, listener: (event: FallbackEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  async execute<T>(task: Task<T>, options?: ExecuteOptions): Promise<T | F> {
    const scope = openScope(options, this.#clock);
    const began = this.#clock.now();
    try {
      const value = await runTask(task, scope.context);
      this.#events.emit('success', { durationMs: this.#clock.now() - began });
      return value;
    } catch (error) {
      if (isCancelled(scope.context.signal) || !this.#handles(error)) throw error;
      this.#events.emit('failure', { durationMs: this.#clock.now() - began, error });
      return await this.handler(error, scope.context);
    } finally {
      scope.close();
    }
  }
}

/** A fallback; see {@link FallbackPolicy}. */
export const fallback = <F>(
  handler: (error: unknown, context: ExecuteContext) => F | PromiseLike<F>,
  options?: FallbackOptions,
): FallbackPolicy<F> => new FallbackPolicy(handler, options);
