/** What a protected function learns about its call, and what a call answers. */
import type { KeyRef } from '../core/ref.js';

/** What the protected function learns about the call it serves. */
export interface RunContext {
  /** Aborts (reason: LeaseLostError) when the lease is lost: stop work, another caller may run. */
  readonly signal: AbortSignal;
  /** 1 for the first holder of the key; raised by one at each take-over of an expired lease. */
  readonly attempt: number;
  /** True when this call took over the expired lease of a crashed or stalled holder. */
  readonly recovered: boolean;
  readonly ref: KeyRef;
}

/** The outcome of a call, and whether it was replayed or just produced. */
export interface RunResult<O> {
  readonly value: O;
  /** True when `value` is the stored outcome of an earlier call; false when `fn` ran now. */
  readonly replayed: boolean;
  /** The attempt that produced `value`. */
  readonly attempt: number;
}

/** A function made idempotent by {@link Oncekey.wrap}. */
export interface IdempotentFunction<I, O> {
  (input: I): Promise<O>;
  /** The same call, telling a replay from a fresh run. */
  detailed(input: I): Promise<RunResult<O>>;
}
