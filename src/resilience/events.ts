/**
 * One event vocabulary for every policy. A policy emits the subset that applies to it; the
 * names and payload shapes are the same everywhere, so one logger or metrics sink serves all.
 */

/** Why a retry policy stopped retrying a retryable failure. */
export type GiveUpReason =
  /** `maxAttempts` attempts ran. */
  | 'maxAttempts'
  /** The backoff schedule (an iterable of delays) ran out. */
  | 'backoffExhausted'
  /** The next delay would end at or after the deadline, so no further attempt could start. */
  | 'deadline'
  /** The server asked to wait longer than `maxRetryAfterMs`. */
  | 'retryAfterTooLong'
  /** The shared retry budget refused the retry. */
  | 'budget'
  /** The caller's signal aborted while waiting for the next attempt. */
  | 'aborted';

export interface RetryEvent {
  /** The attempt that failed (1 is the first call); the next attempt is `attempt + 1`. */
  readonly attempt: number;
  readonly delayMs: number;
  /** `retryAfter` when a server-directed hint set the delay, `backoff` otherwise. */
  readonly delaySource: 'backoff' | 'retryAfter';
  readonly error?: unknown;
  readonly result?: unknown;
}

export interface GiveUpEvent {
  readonly attempt: number;
  readonly reason: GiveUpReason;
  readonly error?: unknown;
  readonly result?: unknown;
  /** Set when a server-directed hint was the reason or was present. */
  readonly retryAfterMs?: number;
}

export interface BreakEvent {
  readonly reason: 'failures' | 'halfOpenFailure' | 'isolated';
  /** When the circuit may let a trial through, on the policy clock (absent when isolated). */
  readonly openUntil?: number;
  readonly error?: unknown;
  readonly result?: unknown;
}

export interface HalfOpenEvent {
  readonly trials: number;
}

export interface ResetEvent {
  readonly reason: 'halfOpenSuccess' | 'isolationEnded';
}

export interface RejectEvent {
  readonly reason: 'circuitOpen' | 'circuitHalfOpen' | 'circuitIsolated' | 'bulkheadFull';
}

export interface TimeoutEvent {
  readonly timeoutMs: number;
  readonly deadline: number;
}

export interface SuccessEvent {
  readonly durationMs: number;
  readonly attempt?: number;
}

export interface FailureEvent {
  readonly durationMs: number;
  readonly error?: unknown;
  /** Set when a result (not an error) counted as a failure, e.g. a retryable HTTP status. */
  readonly result?: unknown;
  readonly attempt?: number;
}

export interface PolicyEvents {
  retry: RetryEvent;
  giveUp: GiveUpEvent;
  break: BreakEvent;
  halfOpen: HalfOpenEvent;
  reset: ResetEvent;
  reject: RejectEvent;
  timeout: TimeoutEvent;
  success: SuccessEvent;
  failure: FailureEvent;
}

export type Listener<E> = (event: E) => void;

/** Where a throwing listener's error goes; the policy itself carries on. */
export type ListenerErrorHandler = (error: unknown, event: string) => void;

const reportListenerError: ListenerErrorHandler = (error, event) => {
  const report = (globalThis as { reportError?: (e: unknown) => void }).reportError;
  if (typeof report === 'function') report(error);
  else console.error(`oncekey/resilience: a listener of "${event}" threw`, error);
};

/** A small typed emitter. Listeners run synchronously; one that throws does not break the policy. */
export class Emitter<E extends object> {
  readonly #listeners = new Map<keyof E, Set<Listener<never>>>();

  constructor(private readonly onListenerError: ListenerErrorHandler = reportListenerError) {}

  /** Subscribe; returns a function that unsubscribes. */
  on<K extends keyof E>(name: K, listener: Listener<E[K]>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) this.#listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => {
      set.delete(listener as Listener<never>);
    };
  }

  emit<K extends keyof E>(name: K, event: E[K]): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<E[K]>)(event);
      } catch (error) {
        try {
          this.onListenerError(error, String(name));
        } catch {
          // The error handler itself failed; there is nowhere left to report, and the policy must go on.
        }
      }
    }
  }
}

/** The `on` method every policy exposes, restricted to the events it emits. */
export interface EventSource<E extends object> {
  on<K extends keyof E>(name: K, listener: Listener<E[K]>): () => void;
}
