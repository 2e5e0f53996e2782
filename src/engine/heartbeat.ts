/**
 * Keeps a lease alive while the protected function runs, and tells the function when it is gone.
 *
 * Every lease/3 the heartbeat calls `extend`. The lease is trusted until `sent + leaseMs`, where
 * `sent` is the engine's clock just before the call that granted or renewed it — conservative, so
 * a store clock that runs ahead or a slow reply can only make us give up early, never late.
 * When `extend` answers LeaseLost, or that deadline passes without a successful `extend` (store
 * unreachable, event loop blocked), the signal aborts with a {@link LeaseLostError}. Aborting is a
 * warning to stop work, not a verdict: the commit is fenced by the store and decides.
 *
 * Timers are unref'd (a heartbeat never keeps a process alive) and cleared by `stop`.
 */
import { LeaseLostError, isLeaseLostError } from '../errors/lease-lost.js';
import type { Clock, KeyRef, Store } from '../store/contract.js';

export interface HeartbeatOptions {
  readonly store: Store;
  readonly ref: KeyRef;
  readonly token: string;
  readonly leaseMs: number;
  readonly clock: Clock;
  /** The engine's clock just before the `begin` that granted the lease. */
  readonly since: number;
  /** Called once, when the lease is considered lost. */
  readonly onLost: (error: LeaseLostError) => void;
  /** An `extend` failed for another reason; the heartbeat keeps trying until the deadline. */
  readonly onExtendError: (error: unknown) => void;
}

export interface Heartbeat {
  /** Aborts, with a LeaseLostError as reason, when the lease is lost. */
  readonly signal: AbortSignal;
  /** True once the lease was considered lost. */
  readonly lost: boolean;
  /** Stop renewing and clear every timer. Idempotent. */
  stop(): void;
}

export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const { store, ref, token, leaseMs, clock } = options;
  const controller = new AbortController();
  const interval = Math.max(1, Math.floor(leaseMs / 3));
  let deadline = options.since + leaseMs;
  let stopped = false;
  let lost = false;
  let tickTimer: ReturnType<typeof setTimeout> | undefined;
  let deadlineTimer: ReturnType<typeof setTimeout> | undefined;

  function stop(): void {
    stopped = true;
    clearTimeout(tickTimer);
    clearTimeout(deadlineTimer);
  }

  function lose(error: LeaseLostError): void {
    if (stopped) return;
    stop();
    lost = true;
    controller.abort(error);
    options.onLost(error);
  }

  function expired(): LeaseLostError {
    return new LeaseLostError(ref, 'the lease expired before it could be renewed');
  }

  function armDeadline(): void {
    clearTimeout(deadlineTimer);
    deadlineTimer = unrefTimer(() => {
      if (clock.now() >= deadline) lose(expired());
      else armDeadline();
    }, deadline - clock.now());
  }

  async function tick(): Promise<void> {
    if (stopped) return;
    if (clock.now() >= deadline) return lose(expired());
    const sent = clock.now();
    try {
      await store.extend(ref, token, leaseMs);
      if (stopped) return;
      deadline = Math.max(deadline, sent + leaseMs);
      armDeadline();
    } catch (error) {
      if (stopped) return;
      if (isLeaseLostError(error)) return lose(error);
      options.onExtendError(error);
    }
    tickTimer = unrefTimer(() => void tick(), interval);
  }

  tickTimer = unrefTimer(() => void tick(), interval);
  armDeadline();

  return {
    signal: controller.signal,
    get lost() {
      return lost;
    },
    stop,
  };
}

function unrefTimer(fn: () => void, ms: number): ReturnType<typeof setTimeout> {
  const timer = setTimeout(fn, Math.max(1, ms));
  timer.unref?.();
  return timer;
}
