/**
 * The engine: key + scope + fingerprint → begin / commit / release, replay, policies.
 * Framework-free and store-free: adapters turn requests into `run` calls, stores keep records.
 *
 * One call, end to end: validate the ref and fingerprint the input (nothing touches the store on
 * bad input) → `begin` → replay, mismatch, wait/throw while in progress, or acquire → run `fn`
 * with a heartbeat → commit the encoded result, commit a final error, or release the key.
 */
import { type LeaseLostError, isLeaseLostError } from '../core/errors/lease-lost.js';
import type { KeyRef } from '../core/ref.js';
import type { Acquired, Store } from '../store/contract.js';
import { Calls } from './calls.js';
import { fingerprint } from './fingerprint.js';
import { Heartbeat, type HeartbeatListener } from './heartbeat.js';
import { HookRunner } from './hooks.js';
import { encodeError, encodeResult } from './outcome.js';
import { validateRef } from '../core/ref.js';
import {
  type OncekeyOptions,
  type RunOptions,
  type Settings,
  type WrapOptions,
  WRAP_OPTIONS,
  assertWrapFunctions,
  resolveEngineOptions,
  resolveRunOptions,
} from './settings.js';
import { runTransaction, type TransactionContext, type TransactionOptions } from './transaction.js';
import type { IdempotentFunction, RunContext, RunResult } from './results.js';

export type { IdempotentFunction, RunContext, RunResult } from './results.js';

export class Oncekey {
  readonly store: Store;
  readonly #calls: Calls;

  /** @throws InvalidOptionError on an unknown option, a bad duration, or `ttl` shorter than `lease`. */
  constructor(options: OncekeyOptions) {
    const config = resolveEngineOptions(options);
    this.store = config.store;
    this.#calls = new Calls(config, new HookRunner(config.hooks));
  }

  /**
   * Make `fn` idempotent: the first call for a key runs it and stores its result; later calls with
   * the same key and input replay that result; the same key with another input is a
   * FingerprintMismatchError. Options are validated here, once.
   */
  wrap<I, O>(fn: (input: I, run: RunContext) => Promise<O> | O, options: WrapOptions<I>): IdempotentFunction<I, O> {
    if (typeof fn !== 'function') throw new TypeError('Oncekey.wrap: fn must be a function');
    assertWrapFunctions(options);
    const settings = resolveRunOptions('wrap', options, this.#calls.defaults, WRAP_OPTIONS);
    const { scope, key, fingerprint: pick } = options;
    const detailed = async (input: I): Promise<RunResult<O>> => {
      const ref = validateRef({ scope: typeof scope === 'string' ? scope : scope(input), key: key(input) });
      const print = pick === undefined ? fingerprint(input, 'input') : fingerprint(pick(input), 'fingerprint(input)');
      return this.#execute(ref, print, (run) => fn(input, run), settings);
    };
    const call = async (input: I): Promise<O> => (await detailed(input)).value;
    return Object.assign(call, { detailed });
  }

  /**
   * The lower-level form `wrap` uses: run `fn` once for `ref`, with `fingerprintInput` (any value
   * {@link fingerprint} accepts) identifying the request. Resolves with the value and whether it
   * was replayed; a cached error is thrown as a ReplayedError.
   */
  async run<O>(
    ref: KeyRef,
    fingerprintInput: unknown,
    fn: (run: RunContext) => Promise<O> | O,
    options?: RunOptions,
  ): Promise<RunResult<O>> {
    const valid = validateRef(ref);
    if (typeof fn !== 'function') throw new TypeError('Oncekey.run: fn must be a function');
    const settings = resolveRunOptions('run', options, this.#calls.defaults);
    return this.#execute(valid, fingerprint(fingerprintInput, 'input'), fn, settings);
  }

  /**
   * Transactional mode (PostgreSQL, SQLite): run `fn` inside one database transaction that also
   * holds the key's record, so its writes through `tx` and the stored result commit together or
   * not at all. Duplicates wait for it and replay. See `./transaction.ts`.
   */
  transaction<Tx, O>(
    ref: KeyRef,
    fn: (tx: Tx, context: TransactionContext) => Promise<O> | O,
    options?: TransactionOptions,
  ): Promise<RunResult<O>> {
    return runTransaction(this.#calls, ref, fn, options);
  }

  #execute<O>(ref: KeyRef, print: string, fn: (run: RunContext) => Promise<O> | O, s: Settings): Promise<RunResult<O>> {
    return this.#calls.loop<O>(ref, s, async () => {
      const sent = this.#calls.clock.now();
      const answer = await this.store.begin(ref, print, { leaseMs: s.leaseMs, ttlMs: s.ttlMs });
      return answer.kind === 'acquired' ? { kind: 'done', result: await this.#hold(ref, answer, sent, fn, s) } : answer;
    });
  }

  async #hold<O>(ref: KeyRef, lease: Acquired, sent: number, fn: (run: RunContext) => Promise<O> | O, s: Settings): Promise<RunResult<O>> {
    const { token, attempt, recovered } = lease;
    this.#calls.hooks.emit('onAcquire', { ref, attempt, recovered, leaseUntil: lease.leaseUntil });
    if (recovered) this.#calls.hooks.emit('onRecover', { ref, attempt });
    const held = new Held(this.#calls.hooks, ref, token, attempt, this.#calls.clock.now());
    const heartbeat = new Heartbeat(this.store, ref, token, s.leaseMs, this.#calls.clock, sent, held);

    let value: O;
    try {
      // `signal` is a getter so that the AbortController is made only for functions that use it.
      value = await fn({
        get signal() {
          return heartbeat.signal;
        },
        attempt,
        recovered,
        ref,
      });
    } catch (error) {
      heartbeat.stop();
      await this.#settleError(held, error, s);
      throw error;
    }
    heartbeat.stop();

    let text: string;
    try {
      text = this.#calls.encode(value);
    } catch (error) {
      await this.#release(held, error);
      throw error;
    }
    try {
      await this.store.commit(ref, token, encodeResult(attempt, text), s.ttlMs);
    } catch (error) {
      if (isLeaseLostError(error)) held.leaseLost(error);
      throw error;
    }
    this.#calls.hooks.emit('onCommit', { ref, attempt, durationMs: this.#calls.clock.now() - held.started, error: false });
    this.#calls.waiters.wake(ref);
    return { value, replayed: false, attempt };
  }

  /** `fn` threw: store the error if it is final, else release the key. Never throws. */
  async #settleError(held: Held, error: unknown, s: Settings): Promise<void> {
    const { ref, token, attempt } = held;
    // A call that lost its lease may have been cut short by it: its error is never final.
    if (!held.lost && !isLeaseLostError(error) && this.#isFinal(ref, error, s)) {
      try {
        await this.store.commit(ref, token, encodeError(attempt, error), s.ttlMs);
        this.#calls.hooks.emit('onCommit', { ref, attempt, durationMs: this.#calls.clock.now() - held.started, error: true });
        this.#calls.waiters.wake(ref);
      } catch (commitError) {
        if (isLeaseLostError(commitError)) held.leaseLost(commitError);
        else this.#calls.hooks.report(ref, 'commit', commitError);
      }
      return;
    }
    await this.#release(held, error);
  }

  #isFinal(ref: KeyRef, error: unknown, s: Settings): boolean {
    if (typeof s.cacheErrors === 'boolean') return s.cacheErrors;
    try {
      return s.cacheErrors(error) === true;
    } catch (predicateError) {
      this.#calls.hooks.report(ref, 'cacheErrors', predicateError);
      return false;
    }
  }

  /** Release so a retry may run. A failure is reported, never thrown over the caller's error. */
  async #release(held: Held, why: unknown): Promise<void> {
    const { ref, token, attempt } = held;
    try {
      await this.store.release(ref, token);
    } catch (error) {
      // LeaseLost: someone else holds the key now, or it is gone — nothing left to release.
      if (isLeaseLostError(error)) held.leaseLost(error);
      else this.#calls.hooks.report(ref, 'release', error);
      return;
    }
    this.#calls.hooks.emit('onRelease', { ref, attempt, durationMs: this.#calls.clock.now() - held.started, error: why });
    this.#calls.waiters.wake(ref);
  }
}

/** One holding of a key: what settling it needs, and the heartbeat's listener. */
class Held implements HeartbeatListener {
  #lost = false;

  constructor(
    readonly hooks: HookRunner,
    readonly ref: KeyRef,
    readonly token: string,
    readonly attempt: number,
    /** The engine's clock when `fn` started. */
    readonly started: number,
  ) {}

  /** True once the lease was lost (before settling, only the heartbeat can have found that). */
  get lost(): boolean {
    return this.#lost;
  }

  /** Reports the loss once, whichever of heartbeat, commit or release noticed it first. */
  leaseLost(error: LeaseLostError): void {
    if (this.#lost) return;
    this.#lost = true;
    this.hooks.emit('onLeaseLost', { ref: this.ref, attempt: this.attempt, error });
  }

  /** The heartbeat's report. */
  onLost(error: LeaseLostError): void {
    this.leaseLost(error);
  }

  onExtendError(error: unknown): void {
    this.hooks.report(this.ref, 'extend', error);
  }
}
