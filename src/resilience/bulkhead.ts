import { systemClock, type TimerClock } from '../core/time.js';
import { BulkheadRejectedError } from './errors/bulkhead-rejected.js';
import { Emitter, type EventSource, type PolicyEvents } from './events.js';
import { assertKnownOptions, clockOption, nonNegativeInt, optional, positiveInt } from './options.js';
import type { ExecuteOptions, Policy, Task } from './policy.js';
import { openScope, runTask } from './scope.js';

export interface BulkheadOptions {
  /** Tasks running at once. Required. */
  readonly maxConcurrent: number;
  /** Callers that may wait for a slot; beyond that they get `BulkheadRejectedError`. Default 0. */
  readonly maxQueue?: number;
  readonly clock?: TimerClock;
}

export type BulkheadEvents = Pick<PolicyEvents, 'reject' | 'success' | 'failure'>;

interface Waiter {
  readonly grant: () => void;
}

/**
 * Limits concurrency so one slow dependency cannot take every connection or worker. Queued
 * callers wait in order; one whose signal aborts (or whose deadline passes) leaves the queue.
 */
export class BulkheadPolicy implements Policy, EventSource<BulkheadEvents> {
  readonly #events = new Emitter<BulkheadEvents>();
  readonly #queue: Waiter[] = [];
  readonly #clock: TimerClock;
  readonly maxConcurrent: number;
  readonly maxQueue: number;
  #active = 0;

  constructor(options: BulkheadOptions) {
    assertKnownOptions('bulkhead', options, ['maxConcurrent', 'maxQueue', 'clock']);
    this.maxConcurrent = positiveInt('bulkhead.maxConcurrent', options?.maxConcurrent);
    this.maxQueue = optional(options.maxQueue, 0, (v) => nonNegativeInt('bulkhead.maxQueue', v));
    this.#clock = optional(options.clock, systemClock, (v) => clockOption<TimerClock>('bulkhead.clock', v));
  }

  on<K extends keyof BulkheadEvents>(name: K, listener: (event: BulkheadEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  /** Tasks running now. */
  get active(): number {
    return this.#active;
  }

  /** Callers waiting for a slot. */
  get queued(): number {
    return this.#queue.length;
  }

  async execute<T>(task: Task<T>, options?: ExecuteOptions): Promise<T> {
    const scope = openScope(options, this.#clock);
    const { signal } = scope.context;
    try {
      if (signal.aborted) throw signal.reason;
      if (this.#active < this.maxConcurrent) this.#active++;
      else if (this.#queue.length < this.maxQueue) {
        await this.#enqueue(signal);
        // Granted a slot, but the caller left in the same tick: pass the slot on, do not run.
        if (signal.aborted) {
          this.#release();
          throw signal.reason;
        }
      } else {
        this.#events.emit('reject', { reason: 'bulkheadFull' });
        throw new BulkheadRejectedError(this.maxConcurrent, this.maxQueue);
      }
      const began = this.#clock.now();
      try {
        const value = await runTask(task, scope.context);
        this.#events.emit('success', { durationMs: this.#clock.now() - began });
        return value;
      } catch (error) {
        this.#events.emit('failure', { durationMs: this.#clock.now() - began, error });
        throw error;
      } finally {
        this.#release();
      }
    } finally {
      scope.close();
    }
  }

  /** Wait for a slot; the releasing task hands its slot over, so `#active` does not change. */
  #enqueue(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const index = this.#queue.indexOf(waiter);
        if (index >= 0) this.#queue.splice(index, 1);
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#queue.push(waiter);
    });
  }

  #release(): void {
    const next = this.#queue.shift();
    if (next === undefined) this.#active--;
    else next.grant();
  }
}

/** A bulkhead; see {@link BulkheadPolicy}. */
export const bulkhead = (options: BulkheadOptions): BulkheadPolicy => new BulkheadPolicy(options);
