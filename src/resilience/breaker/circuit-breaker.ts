import { InvalidOptionError } from '../../core/errors/invalid-option.js';
import type { Backoff } from '../backoff/backoff.js';
import { systemClock, type TimerClock } from '../../core/time.js';
import { BrokenCircuitError } from '../errors/broken-circuit.js';
import { IsolatedCircuitError } from '../errors/isolated-circuit.js';
import { Emitter, type EventSource, type PolicyEvents } from '../events.js';
import { assertKnownOptions, clockOption, func, nonNegative, oneOf, optional, positiveInt, withMethods } from '../options.js';
import type { ExecuteOptions, Policy, Task } from '../policy.js';
import { isCancelled, openScope, runTask } from '../scope.js';
import { consecutiveBreaker } from './consecutive.js';
import {
  admit,
  closedSnapshot,
  recordOutcome,
  releasePermit,
  type BreakerRules,
  type BreakerSnapshot,
  type CircuitState,
  type Permit,
  type Step,
  type Transition,
} from './snapshot.js';
import { MemoryBreakerStateStore, type BreakerStateStore } from './state-store.js';
import type { BreakerStrategy } from './strategy.js';

export interface CircuitBreakerOptions {
  /** When the closed circuit opens. Default `consecutiveBreaker({ threshold: 5 })`. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- each strategy has its own state type
  readonly breaker?: BreakerStrategy<any>;
  /**
   * How long the circuit stays open before trials may run: a fixed duration in ms, or a backoff
   * whose n-th delay is used for the n-th opening in a row (so a dependency that keeps failing its
   * trials is probed less and less often). Default 30 000 ms.
   */
  readonly halfOpenAfterMs?: number | Backoff;
  /** Trial calls let through while half-open. Default 1. */
  readonly halfOpenTrials?: number;
  /** Successful trials that close the circuit; fewer than that and it opens again. Default: all trials. */
  readonly halfOpenSuccessThreshold?: number;
  /** A trial that has not finished after this long counts as failed and frees its slot. Default 60 000 ms. */
  readonly trialLeaseMs?: number;
  /** Half-open with every trial slot taken: fail fast with `BrokenCircuitError` (default) or wait for a verdict. */
  readonly whenHalfOpenFull?: 'reject' | 'wait';
  /** Which errors count against the dependency; others count as successes. Default: every error. */
  readonly isFailure?: (error: unknown) => boolean;
  /** Which results count against the dependency (say, a 503 `Response`). Default: none. */
  readonly isFailureResult?: (result: unknown) => boolean;
  /** Where the state lives. Default: in this process ({@link MemoryBreakerStateStore}). */
  readonly store?: BreakerStateStore;
  /** Start from a snapshot taken earlier with `snapshot()` (in-memory store only). */
  readonly initialState?: BreakerSnapshot;
  readonly clock?: TimerClock;
  /** Random source for a jittered `halfOpenAfterMs` backoff. Default `Math.random`. */
  readonly random?: () => number;
}

const KNOWN = [
  'breaker',
  'halfOpenAfterMs',
  'halfOpenTrials',
  'halfOpenSuccessThreshold',
  'trialLeaseMs',
  'whenHalfOpenFull',
  'isFailure',
  'isFailureResult',
  'store',
  'initialState',
  'clock',
  'random',
] as const;

export type CircuitBreakerEvents = Pick<PolicyEvents, 'break' | 'halfOpen' | 'reset' | 'reject' | 'success' | 'failure'>;

/** Undoes one `isolate()` call. */
export interface IsolationHandle {
  dispose(): void;
  [Symbol.dispose](): void;
}

/**
 * Stops calling a dependency that keeps failing. Closed: calls run and the strategy watches
 * their outcomes. Open: calls fail fast with {@link BrokenCircuitError} (carrying `retryAfterMs`).
 * After `halfOpenAfterMs`, half-open: up to `halfOpenTrials` calls run as trials; enough
 * successes close the circuit, too many failures open it again. Outcomes of calls whose caller
 * cancelled are not counted either way.
 */
export class CircuitBreakerPolicy implements Policy, EventSource<CircuitBreakerEvents> {
  readonly #events = new Emitter<CircuitBreakerEvents>();
  readonly #rules: BreakerRules<unknown>;
  readonly #store: BreakerStateStore;
  readonly #clock: TimerClock;
  readonly #whenFull: 'reject' | 'wait';
  readonly #isFailure: (error: unknown) => boolean;
  readonly #isFailureResult: ((result: unknown) => boolean) | undefined;
  // Trial ids must be unique across processes once the state is shared through a store.
  readonly #id = globalThis.crypto.randomUUID();
  readonly #waiters = new Set<() => void>();
  #trialSeq = 0;
  #isolations = 0;
  #last: BreakerSnapshot;

  constructor(options: CircuitBreakerOptions = {}) {
    assertKnownOptions('circuitBreaker', options, KNOWN);
    const strategy = optional(options.breaker, consecutiveBreaker() as BreakerStrategy<unknown>, (v) =>
      withMethods<BreakerStrategy<unknown>>('circuitBreaker.breaker', v, ['initial', 'record', 'isWindow']),
    );
    const trials = optional(options.halfOpenTrials, 1, (v) => positiveInt('circuitBreaker.halfOpenTrials', v));
    const successThreshold = optional(options.halfOpenSuccessThreshold, trials, (v) =>
      positiveInt('circuitBreaker.halfOpenSuccessThreshold', v),
    );
    if (successThreshold > trials) {
      throw new InvalidOptionError('circuitBreaker.halfOpenSuccessThreshold', `must be <= halfOpenTrials (${trials})`);
    }
    const trialLeaseMs = optional(options.trialLeaseMs, 60_000, (v) => positiveInt('circuitBreaker.trialLeaseMs', v));
    const random = optional(options.random, Math.random, (v) => func<() => number>('circuitBreaker.random', v));
    const halfOpenAfter = options.halfOpenAfterMs ?? 30_000;
    let openDurationMs: (opens: number) => number;
    if (typeof halfOpenAfter === 'function') {
      openDurationMs = (opens) => nthDelay(halfOpenAfter, opens, random);
    } else {
      const ms = nonNegative('circuitBreaker.halfOpenAfterMs', halfOpenAfter);
      openDurationMs = () => ms;
    }
    this.#rules = { strategy, trials, successThreshold, trialLeaseMs, openDurationMs };
    this.#whenFull = optional(options.whenHalfOpenFull, 'reject', (v) =>
      oneOf('circuitBreaker.whenHalfOpenFull', v, ['reject', 'wait'] as const),
    );
    this.#isFailure = optional(
      options.isFailure,
      () => true,
      (v) => func('circuitBreaker.isFailure', v),
    );
    this.#isFailureResult = optional(options.isFailureResult, undefined, (v) =>
      func<(result: unknown) => boolean>('circuitBreaker.isFailureResult', v),
    );
    this.#clock = optional(options.clock, systemClock, (v) => clockOption<TimerClock>('circuitBreaker.clock', v));

    if (options.store !== undefined && options.initialState !== undefined) {
      throw new InvalidOptionError('circuitBreaker.initialState', 'give the snapshot to the store instead of both');
    }
    const initial = options.initialState === undefined ? undefined : restorable(options.initialState, strategy);
    this.#store = optional(options.store, new MemoryBreakerStateStore(initial), (v) =>
      withMethods<BreakerStateStore>('circuitBreaker.store', v, ['update', 'read']),
    );
    this.#last = initial ?? closedSnapshot(strategy);
  }

  on<K extends keyof CircuitBreakerEvents>(name: K, listener: (event: CircuitBreakerEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  /** The state as this instance last saw it (an open circuit whose time is up reads `halfOpen`). */
  get state(): CircuitState | 'isolated' {
    if (this.#isolations > 0) return 'isolated';
    const s = this.#last;
    if (s.state === 'open' && this.#clock.now() >= (s.openUntil ?? 0)) return 'halfOpen';
    return s.state;
  }

  /** The full state, as JSON-safe data to pass back as `initialState` later. Isolation is not part of it. */
  async snapshot(): Promise<BreakerSnapshot> {
    return (await this.#store.read()) ?? closedSnapshot(this.#rules.strategy);
  }

  /**
   * Open the circuit by hand until the returned handle is disposed (every handle, when isolated
   * more than once). Calls fail with {@link IsolatedCircuitError}. Isolation belongs to this
   * instance; afterwards the circuit resumes the state it had in its store.
   */
  isolate(): IsolationHandle {
    if (this.#isolations++ === 0) this.#events.emit('break', { reason: 'isolated' });
    this.#wakeWaiters();
    let disposed = false;
    const dispose = (): void => {
      if (disposed) return;
      disposed = true;
      if (--this.#isolations === 0) {
        this.#events.emit('reset', { reason: 'isolationEnded' });
        this.#wakeWaiters();
      }
    };
    return { dispose, [Symbol.dispose]: dispose };
  }

  async execute<T>(task: Task<T>, options?: ExecuteOptions): Promise<T> {
    const clock = this.#clock;
    const scope = openScope(options, clock);
    try {
      const permit = await this.#admit(scope.context.signal);
      const began = clock.now();
      const outcome = await runTask(task, scope.context).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      const durationMs = clock.now() - began;
      let failed: boolean;
      try {
        if (!outcome.ok && isCancelled(scope.context.signal)) throw outcome.error;
        failed = outcome.ok ? (this.#isFailureResult?.(outcome.value) ?? false) : this.#isFailure(outcome.error);
      } catch (error) {
        // No verdict (the caller cancelled, or a predicate threw): give a trial slot back.
        await this.#apply((s) => releasePermit(s, permit));
        this.#wakeWaiters();
        throw error;
      }
      const detail = outcome.ok ? (failed ? { result: outcome.value } : {}) : { error: outcome.error };
      await this.#record(permit, !failed, detail);
      this.#events.emit(failed ? 'failure' : 'success', failed ? { durationMs, ...detail } : { durationMs });
      if (!outcome.ok) throw outcome.error;
      return outcome.value;
    } finally {
      scope.close();
    }
  }

  async #admit(signal: AbortSignal): Promise<Permit> {
    for (;;) {
      if (signal.aborted) throw signal.reason;
      if (this.#isolations > 0) {
        this.#events.emit('reject', { reason: 'circuitIsolated' });
        throw new IsolatedCircuitError();
      }
      const trialId = `${this.#id}:${++this.#trialSeq}`;
      const now = this.#clock.now();
      const { admission, transitions } = await this.#apply((s) => admit(s, now, this.#rules, trialId));
      this.#emitTransitions(transitions, {});
      if (admission.kind === 'permit') return admission.permit;
      if (admission.state === 'halfOpen' && this.#whenFull === 'wait') {
        await this.#wait(admission.waitMs, signal);
        continue;
      }
      this.#events.emit('reject', { reason: admission.state === 'open' ? 'circuitOpen' : 'circuitHalfOpen' });
      throw new BrokenCircuitError(admission.state, admission.state === 'open' ? admission.retryAfterMs : undefined);
    }
  }

  async #record(permit: Permit, success: boolean, cause: { error?: unknown; result?: unknown }): Promise<void> {
    const now = this.#clock.now();
    const transitions = await this.#apply((s) => recordOutcome(s, now, this.#rules, permit, success));
    this.#emitTransitions(transitions, cause);
    if (permit.kind === 'trial' || transitions.length > 0) this.#wakeWaiters();
  }

  /** Run one transition through the store; a snapshot of another strategy is treated as absent. */
  async #apply<R>(transition: (s: BreakerSnapshot) => Step<R>): Promise<R> {
    return await this.#store.update((stored) => {
      const current = stored === undefined || stored.strategy !== this.#rules.strategy.name ? closedSnapshot(this.#rules.strategy) : stored;
      const step = transition(current);
      this.#last = step.next ?? current;
      return step;
    });
  }

  #emitTransitions(transitions: Transition[], cause: { error?: unknown; result?: unknown }): void {
    for (const t of transitions) {
      if (t.type === 'break') this.#events.emit('break', { reason: t.reason, openUntil: t.openUntil, ...cause });
      else if (t.type === 'halfOpen') this.#events.emit('halfOpen', { trials: this.#rules.trials });
      else this.#events.emit('reset', { reason: 'halfOpenSuccess' });
    }
  }

  /** Wait for a trial's verdict (or a lease to run out, or an isolation change); abort honoured. */
  #wait(ms: number | undefined, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let timer: unknown;
      const done = (): void => {
        this.#waiters.delete(wake);
        signal.removeEventListener('abort', onAbort);
        if (timer !== undefined) this.#clock.clearTimeout(timer);
      };
      const wake = (): void => {
        done();
        resolve();
      };
      const onAbort = (): void => {
        done();
        reject(signal.reason);
      };
      this.#waiters.add(wake);
      signal.addEventListener('abort', onAbort, { once: true });
      if (ms !== undefined) timer = this.#clock.setTimeout(wake, ms);
    });
  }

  #wakeWaiters(): void {
    for (const wake of [...this.#waiters]) wake();
  }
}

function nthDelay(backoff: Backoff, n: number, random: () => number): number {
  const iterator = backoff(random);
  let delay = 0;
  for (let i = 0; i < n; i++) {
    const next = iterator.next();
    if (next.done) break; // a finite schedule keeps its last delay
    delay = next.value;
  }
  return delay;
}

/** Check a snapshot from outside and drop what only made sense in the process that took it. */
function restorable(snapshot: BreakerSnapshot, strategy: BreakerStrategy<unknown>): BreakerSnapshot {
  const bad = (detail: string): never => {
    throw new InvalidOptionError('circuitBreaker.initialState', detail);
  };
  if (typeof snapshot !== 'object' || snapshot === null) bad('expected a snapshot object');
  if (!['closed', 'open', 'halfOpen'].includes(snapshot.state)) bad(`unknown state ${String(snapshot.state)}`);
  if (snapshot.strategy !== strategy.name) bad(`taken from a ${snapshot.strategy} breaker, this one is ${strategy.name}`);
  if (!Number.isSafeInteger(snapshot.generation) || !Number.isSafeInteger(snapshot.opens)) bad('bad generation or opens');
  if (!strategy.isWindow(snapshot.window)) bad('window does not match the strategy');
  if (snapshot.state === 'open' && !Number.isFinite(snapshot.openUntil)) bad('open without openUntil');
  // Trials in flight belonged to the process that took the snapshot; nobody will report them.
  if (snapshot.state === 'halfOpen') return { ...snapshot, trials: [] };
  return snapshot;
}

/** A circuit breaker; see {@link CircuitBreakerPolicy}. */
export const circuitBreaker = (options?: CircuitBreakerOptions): CircuitBreakerPolicy => new CircuitBreakerPolicy(options);
