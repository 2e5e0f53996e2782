/**
 * Hooks: synchronous observation points of the engine, the raw material for logs and metrics.
 * A hook that throws (or returns a promise that rejects) never breaks the operation: the error is
 * passed to `onError`, or, when there is none or it throws too, emitted as a process warning.
 */
import type { LeaseLostError } from '../core/errors/lease-lost.js';
import type { KeyRef, RecordState } from '../store/contract.js';
import { describeError, emitWarning } from '../core/warn.js';

/** The caller holds the key and is about to run the function. */
export interface AcquireEvent {
  readonly ref: KeyRef;
  readonly attempt: number;
  /** True when an expired lease of a crashed or stalled holder was taken over. */
  readonly recovered: boolean;
  readonly leaseUntil: number;
}

/** A take-over of an expired lease (fired after `onAcquire`). */
export interface RecoverEvent {
  readonly ref: KeyRef;
  readonly attempt: number;
}

/** A stored outcome was returned (or, for `error: true`, thrown as a ReplayedError). */
export interface ReplayEvent {
  readonly ref: KeyRef;
  /** The attempt that produced the outcome. */
  readonly attempt: number;
  readonly completedAt: number;
  readonly error: boolean;
}

/** The key was already used with another input; nothing ran. */
export interface MismatchEvent {
  readonly ref: KeyRef;
  readonly state: RecordState;
}

/** Another caller holds the key; fired once per call, when it is first met. */
export interface InProgressEvent {
  readonly ref: KeyRef;
  /** The holder's attempt. */
  readonly attempt: number;
  readonly retryAfterMs: number;
  /** What this call does about it. */
  readonly action: 'throw' | 'wait';
}

/** The outcome was stored: a result, or (`error: true`) an error `cacheErrors` declared final. */
export interface CommitEvent {
  readonly ref: KeyRef;
  readonly attempt: number;
  /** From the start of the function to the end of the commit, by the engine's clock. */
  readonly durationMs: number;
  readonly error: boolean;
}

/** The key was released so a retry may run; `error` is why. */
export interface ReleaseEvent {
  readonly ref: KeyRef;
  readonly attempt: number;
  readonly durationMs: number;
  readonly error: unknown;
}

/** This caller's lease is gone (taken over, or expired before it could be renewed). */
export interface LeaseLostEvent {
  readonly ref: KeyRef;
  readonly attempt: number;
  readonly error: LeaseLostError;
}

/** An error the engine did not throw to the caller, so that it does not hide a more relevant one. */
export interface EngineErrorEvent {
  readonly ref: KeyRef;
  /** What failed: `release`, `commit` (of a cached error), `extend`, `cacheErrors`, or `hook:<name>`. */
  readonly during: string;
  readonly error: unknown;
}

export interface OncekeyHooks {
  onAcquire?(event: AcquireEvent): void;
  onRecover?(event: RecoverEvent): void;
  onReplay?(event: ReplayEvent): void;
  onMismatch?(event: MismatchEvent): void;
  onInProgress?(event: InProgressEvent): void;
  onCommit?(event: CommitEvent): void;
  onRelease?(event: ReleaseEvent): void;
  onLeaseLost?(event: LeaseLostEvent): void;
  onError?(event: EngineErrorEvent): void;
}

export const HOOK_NAMES = [
  'onAcquire',
  'onRecover',
  'onReplay',
  'onMismatch',
  'onInProgress',
  'onCommit',
  'onRelease',
  'onLeaseLost',
  'onError',
] as const satisfies ReadonlyArray<keyof OncekeyHooks>;

type EventOf<N extends keyof OncekeyHooks> = Parameters<NonNullable<OncekeyHooks[N]>>[0];

/** Calls hooks so that none can break the operation that fires it. */
export class HookRunner {
  constructor(private readonly hooks: OncekeyHooks) {}

  emit<N extends keyof OncekeyHooks>(name: N, event: EventOf<N>): void {
    const hook = this.hooks[name] as ((event: EventOf<N>) => unknown) | undefined;
    if (hook === undefined) return;
    try {
      const result = hook.call(this.hooks, event);
      if (isThenable(result)) result.then(undefined, (error: unknown) => this.hookFailed(name, event.ref, error));
    } catch (error) {
      this.hookFailed(name, event.ref, error);
    }
  }

  /** Report an error that is not thrown to the caller. */
  report(ref: KeyRef, during: string, error: unknown): void {
    const onError = this.hooks.onError;
    if (onError !== undefined) {
      try {
        onError.call(this.hooks, { ref, during, error });
        return;
      } catch (hookError) {
        warn(`Oncekey hook onError threw while reporting an error during ${during}`, hookError);
      }
    }
    warn(`Oncekey: error during ${during} on ${ref.scope}/${ref.key}`, error);
  }

  private hookFailed(name: string, ref: KeyRef, error: unknown): void {
    if (name === 'onError') warn(`Oncekey hook onError threw`, error);
    else this.report(ref, `hook:${name}`, error);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';
}

function warn(message: string, error: unknown): void {
  emitWarning(`${message}: ${describeError(error)}`, 'ONCEKEY_UNREPORTED_ERROR');
}
