/**
 * What every engine call shares, whether it runs under a lease (`wrap`, `run`) or inside a
 * database transaction (`transaction`): the loop that turns the store's answer into a result
 * (replay, mismatch, wait for a holder with jittered polls, or give up with InProgressError),
 * decoding replays and encoding results. The engine builds one at construction.
 */
import { FingerprintMismatchError } from '../core/errors/mismatch.js';
import { InProgressError } from '../core/errors/in-progress.js';
import { ReplayedError } from '../core/errors/replayed-error.js';
import { UnserializableResultError } from '../core/errors/unserializable-result.js';
import type { KeyRef } from '../core/ref.js';
import type { Clock } from '../core/time.js';
import type { InProgress, Mismatch, Replay, Store } from '../store/contract.js';
import type { Codec } from './codec.js';
import type { HookRunner } from './hooks.js';
import { decodeOutcome } from './outcome.js';
import type { RunResult } from './results.js';
import type { EngineConfig, Settings } from './settings.js';
import { LocalWaiters } from './waiters.js';

/** The call is over: its function ran now (or the caller's step produced a result). */
export interface Done<O> {
  readonly kind: 'done';
  readonly result: RunResult<O>;
}

/** Another transaction held the key for the whole wait the store was given. */
export interface Locked {
  readonly kind: 'locked';
}

/** What one attempt of a call answers: a result, or a store answer the loop handles. */
export type Step<O> = Done<O> | Replay | Mismatch | InProgress | Locked;

export class Calls {
  readonly store: Store;
  readonly clock: Clock;
  readonly codec: Codec;
  readonly hooks: HookRunner;
  readonly defaults: Settings;
  readonly waiters = new LocalWaiters();
  readonly #random: () => number;

  constructor(config: EngineConfig, hooks: HookRunner) {
    this.store = config.store;
    this.clock = config.clock;
    this.codec = config.codec;
    this.hooks = hooks;
    this.defaults = config.defaults;
    this.#random = config.random;
  }

  /**
   * Run `attempt` until it answers a result: a replay is decoded, a mismatch thrown; while
   * another caller holds the key, wait (`onInProgress: 'wait'`) with doubling, jittered pauses
   * until `wait.timeout` (default one lease) has passed since the call began, then throw
   * InProgressError. `attempt` gets the milliseconds left to wait, for a store that waits itself.
   */
  async loop<O>(ref: KeyRef, s: Settings, attempt: (waitMs: number) => Promise<Step<O>>): Promise<RunResult<O>> {
    let delay = s.minDelayMs;
    const deadline = this.clock.now() + (s.waitTimeoutMs ?? s.leaseMs);
    for (let first = true; ; first = false) {
      const answer = await attempt(s.onInProgress === 'throw' ? 0 : Math.max(0, deadline - this.clock.now()));
      switch (answer.kind) {
        case 'done':
          return answer.result;
        case 'replay':
          return this.replay<O>(ref, answer);
        case 'mismatch':
          this.hooks.emit('onMismatch', { ref, state: answer.state });
          throw new FingerprintMismatchError(ref);
        case 'locked':
        case 'in_progress': {
          // `locked`: a transaction held the key for the whole wait the store was given, so
          // waiting more here would only wait twice; `in_progress`: a live lease, polled.
          const retryAfterMs = answer.kind === 'in_progress' ? answer.retryAfterMs : s.maxDelayMs;
          if (first) {
            const holder = answer.kind === 'in_progress' ? answer.attempt : 1;
            this.hooks.emit('onInProgress', { ref, attempt: holder, retryAfterMs, action: s.onInProgress });
          }
          const remaining = deadline - this.clock.now();
          if (s.onInProgress === 'throw' || answer.kind === 'locked' || remaining <= 0) throw new InProgressError(ref, retryAfterMs);
          // Equal jitter spreads duplicates' polls; never sleep past the wait deadline, nor past the
          // moment the holder's lease could be taken over.
          const jittered = delay / 2 + (this.#random() * delay) / 2;
          await this.waiters.sleep(ref, Math.max(1, Math.ceil(Math.min(jittered, remaining, retryAfterMs))));
          delay = Math.min(delay * 2, s.maxDelayMs);
        }
      }
    }
  }

  /** The stored outcome as the caller's result, or its stored error thrown as ReplayedError. */
  replay<O>(ref: KeyRef, answer: Replay): RunResult<O> {
    const outcome = decodeOutcome(answer.outcome);
    this.hooks.emit('onReplay', { ref, attempt: outcome.attempt, completedAt: answer.completedAt, error: outcome.kind === 'error' });
    if (outcome.kind === 'error') throw new ReplayedError(ref, outcome.error);
    return { value: this.codec.decode(outcome.text) as O, replayed: true, attempt: outcome.attempt };
  }

  /** The codec's text for `value`, or UnserializableResultError: a result is never stored so that it comes back different. */
  encode(value: unknown): string {
    let text: unknown;
    try {
      text = this.codec.encode(value);
    } catch (cause) {
      if (cause instanceof UnserializableResultError) throw cause;
      const error = new UnserializableResultError(
        'result',
        `the codec could not encode it: ${cause instanceof Error ? cause.message : String(cause)}`,
      );
      error.cause = cause;
      throw error;
    }
    if (typeof text !== 'string') throw new UnserializableResultError('result', `codec.encode returned ${typeof text}, expected a string`);
    return text;
  }
}
