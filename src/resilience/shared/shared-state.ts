/**
 * A {@link BreakerStateStore} kept in a shared database, so a fleet of processes acts as one
 * circuit: one instance tripping opens it for all, and the half-open trial slots (leases with an
 * expiry, in the snapshot) are handed out once across the fleet.
 *
 * The breaker's transitions are pure JavaScript functions, so they cannot run inside the database.
 * Each update is optimistic instead: apply the transition to the last snapshot this process saw,
 * then one atomic compare-and-set in the database (a Lua script, one SQL statement) stores the
 * result only if the stored version is still the one the transition started from. On a conflict
 * the database answers with its current snapshot and the transition runs again on that (re-running
 * a pure transition is safe). An update that changes nothing still checks the version, so no
 * decision is ever taken on a stale snapshot; one that changes nothing and ran on a snapshot just
 * read needs no second round trip. Versions are never reused: each is the writing instance's
 * random id and its own write counter (`<uuid>:<n>`), not a count shared by the fleet, so a key
 * that expired and was created again can never look unchanged.
 *
 * When the database cannot be reached (an error, or no answer within `timeoutMs`), the breaker
 * keeps working on local state, seeded with the last shared snapshot, and a
 * `stateStoreUnavailable` event says so. Every `retryStoreAfterMs` one update tries the database
 * again; when it answers, the shared state is used again (it wins over what happened locally) and
 * `stateStoreRecovered` is emitted. A call that straddles a switch may have its outcome dropped
 * (it belongs to the other state's generation); nothing worse.
 *
 * Instances are not told of each other's verdicts, only of the state: with `whenHalfOpenFull:
 * 'wait'`, a caller on another instance than the trial's waits until the trial's lease runs out
 * (`trialLeaseMs`) before it looks again. With a fleet, prefer the default `'reject'`.
 */
import { OncekeyError } from '../../core/errors/oncekey-error.js';
import { StoreUnavailableError } from '../../core/errors/store-unavailable.js';
import type { BreakerSnapshot, Step } from '../breaker/snapshot.js';
import { MemoryBreakerStateStore, type BreakerStateStore } from '../breaker/state-store.js';
import { systemClock, type TimerClock } from '../../core/time.js';
import { Emitter, type EventSource } from '../events.js';
import { clockOption, optional, positiveInt, withMethods } from '../options.js';

/** A stored snapshot with its version; version `''` and no snapshot when nothing is stored. */
export interface VersionedSnapshot {
  readonly version: string;
  /** The snapshot as stored (JSON text), `''` when absent. */
  readonly json: string;
}

export type CommitAnswer = { readonly ok: true } | { readonly ok: false; readonly current: VersionedSnapshot };

/**
 * What a database must offer to hold breaker state: a read, and an atomic compare-and-set.
 * Implementations: {@link redisBreakerState}, {@link postgresBreakerState}.
 */
export interface BreakerStateBackend {
  /** A short name for events and errors, e.g. `redis`. */
  readonly name: string;
  read(): Promise<VersionedSnapshot>;
  /**
   * Atomically: if the stored version is `expected` (`''`: nothing stored), store `write` when
   * given and answer ok; otherwise answer the current value and change nothing.
   */
  commit(expected: string, write: VersionedSnapshot | undefined): Promise<CommitAnswer>;
}

export interface SharedBreakerStateOptions {
  /** A database call with no answer after this long counts as the store being unavailable. Default 1000 ms. */
  readonly timeoutMs?: number;
  /** While on local state, how often one update tries the shared store again. Default 1000 ms. */
  readonly retryStoreAfterMs?: number;
  /** For the deadlines and the retry schedule. Default the system clock. */
  readonly clock?: TimerClock;
}

export const SHARED_STATE_OPTIONS = ['timeoutMs', 'retryStoreAfterMs', 'clock'] as const;

export interface StateStoreUnavailableEvent {
  readonly store: string;
  /** Why: usually a {@link StoreUnavailableError} with the driver's error as `cause`. */
  readonly error: unknown;
}

export interface StateStoreRecoveredEvent {
  readonly store: string;
  /** How long the breaker ran on local state, on the store's clock. */
  readonly localForMs: number;
}

export interface SharedStateEvents {
  /** The store failed; the breaker now runs on local state. Emitted once per outage. */
  stateStoreUnavailable: StateStoreUnavailableEvent;
  /** The store answered again; the breaker uses the shared state again. */
  stateStoreRecovered: StateStoreRecoveredEvent;
}

/**
 * Compare-and-set rounds one update may take before the store counts as unusable. Each round
 * someone in the fleet wins, so this is only reached under extreme write contention.
 */
const MAX_ROUNDS = 100;

export class SharedBreakerState implements BreakerStateStore, EventSource<SharedStateEvents> {
  readonly name: string;
  readonly #events = new Emitter<SharedStateEvents>();
  readonly #backend: BreakerStateBackend;
  readonly #timeoutMs: number;
  readonly #retryAfterMs: number;
  readonly #clock: TimerClock;
  // Versions are unique across processes: this instance's id and a sequence number.
  readonly #id = globalThis.crypto.randomUUID();
  #seq = 0;
  /** The last value seen in the store (may be stale: every decision checks its version). */
  #seen: VersionedSnapshot | undefined;
  /** Set while running on local state. */
  #local: MemoryBreakerStateStore | undefined;
  #localSince = 0;
  #nextProbeAt = 0;

  /**
   * `context` names the options in errors (a factory passes its own name); unknown options are
   * the factory's to reject, since it also takes options of its own.
   */
  constructor(backend: BreakerStateBackend, options: SharedBreakerStateOptions = {}, context = 'sharedBreakerState') {
    this.#backend = withMethods<BreakerStateBackend>(`${context}.backend`, backend, ['read', 'commit']);
    this.name = backend.name;
    this.#timeoutMs = optional(options.timeoutMs, 1000, (v) => positiveInt(`${context}.timeoutMs`, v));
    this.#retryAfterMs = optional(options.retryStoreAfterMs, 1000, (v) => positiveInt(`${context}.retryStoreAfterMs`, v));
    this.#clock = optional(options.clock, systemClock, (v) => clockOption<TimerClock>(`${context}.clock`, v));
  }

  on<K extends keyof SharedStateEvents>(name: K, listener: (event: SharedStateEvents[K]) => void): () => void {
    return this.#events.on(name, listener);
  }

  /** True while the breaker runs on local state because the store is unavailable. */
  get local(): boolean {
    return this.#local !== undefined;
  }

  async update<R>(transition: (current: BreakerSnapshot | undefined) => Step<R>): Promise<R> {
    const local = this.#local;
    if (local !== undefined) {
      // One update at a time probes the store; the others keep to local state meanwhile.
      if (this.#clock.now() < this.#nextProbeAt) return local.update(transition);
      this.#nextProbeAt = this.#clock.now() + this.#retryAfterMs;
    }
    let result: R;
    try {
      result = await this.#sharedUpdate(transition);
    } catch (error) {
      if (this.#local === undefined) this.#goLocal(error);
      return this.#local!.update(transition);
    }
    if (this.#local !== undefined) {
      this.#local = undefined;
      this.#events.emit('stateStoreRecovered', { store: this.name, localForMs: this.#clock.now() - this.#localSince });
    }
    return result;
  }

  async read(): Promise<BreakerSnapshot | undefined> {
    if (this.#local !== undefined) return this.#local.read();
    try {
      this.#seen = await this.#call('read', () => this.#backend.read());
      return parse(this.#seen.json);
    } catch (error) {
      this.#goLocal(error);
      return this.#local!.read();
    }
  }

  async #sharedUpdate<R>(transition: (current: BreakerSnapshot | undefined) => Step<R>): Promise<R> {
    let fresh = this.#seen === undefined;
    let current = this.#seen ?? (this.#seen = await this.#call('read', () => this.#backend.read()));
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const step = transition(parse(current.json));
      let json = step.next === undefined ? undefined : JSON.stringify(step.next);
      if (json === current.json) json = undefined;
      // A read-only answer computed on what the store held a moment ago is as good as atomic.
      if (json === undefined && fresh) return step.result;
      const write = json === undefined ? undefined : { version: `${this.#id}:${++this.#seq}`, json };
      const expected = current.version;
      const answer = await this.#call('commit', () => this.#backend.commit(expected, write));
      if (answer.ok) {
        if (write !== undefined) this.#seen = write;
        return step.result;
      }
      this.#seen = current = answer.current;
      fresh = true;
    }
    throw new StoreUnavailableError(this.name, `the breaker state changed under ${MAX_ROUNDS} updates in a row`);
  }

  #goLocal(error: unknown): void {
    if (this.#local !== undefined) return;
    this.#local = new MemoryBreakerStateStore(parse(this.#seen?.json ?? ''));
    this.#seen = undefined; // whatever we saw may change while we are away
    this.#localSince = this.#clock.now();
    this.#nextProbeAt = this.#localSince + this.#retryAfterMs;
    this.#events.emit('stateStoreUnavailable', { store: this.name, error });
  }

  /** Run one database call within the deadline; any failure becomes StoreUnavailableError. */
  #call<T>(what: string, work: () => Promise<T>): Promise<T> {
    const clock = this.#clock;
    return new Promise<T>((resolve, reject) => {
      const timer = clock.setTimeout(
        () => reject(new StoreUnavailableError(this.name, `${what} got no answer within ${this.#timeoutMs} ms`)),
        this.#timeoutMs,
      );
      let running: Promise<T>;
      try {
        running = work();
      } catch (error) {
        running = Promise.reject(error);
      }
      running.then(
        (value) => {
          clock.clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          clock.clearTimeout(timer);
          reject(unavailable(this.name, what, error));
        },
      );
    });
  }
}

function unavailable(store: string, what: string, error: unknown): unknown {
  if (error instanceof OncekeyError) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError(store, `${what} failed: ${detail}`, { cause: error });
}

/** A stored snapshot, or undefined when absent or unreadable (the next write replaces it). */
function parse(json: string): BreakerSnapshot | undefined {
  if (json === '') return undefined;
  try {
    const value = JSON.parse(json) as unknown;
    return typeof value === 'object' && value !== null && typeof (value as BreakerSnapshot).state === 'string'
      ? (value as BreakerSnapshot)
      : undefined;
  } catch {
    return undefined;
  }
}
