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
 *
 * Most calls finish long before their first renewal, so a heartbeat costs one timer until then:
 * the deadline timer is armed at the first renewal (the renewal checks the deadline itself before
 * extending), and the AbortController is created only when someone reads `signal`.
 */
import { LeaseLostError, isLeaseLostError } from '../core/errors/lease-lost.js';
import type { Clock, KeyRef, Store } from '../store/contract.js';

/** Told what happens to the lease; one object per call rather than a closure per event. */
export interface HeartbeatListener {
  /** Called once, when the lease is considered lost. */
  onLost(error: LeaseLostError): void;
  /** An `extend` failed for another reason; the heartbeat keeps trying until the deadline. */
  onExtendError(error: unknown): void;
}

export class Heartbeat {
  readonly #store: Store;
  readonly #ref: KeyRef;
  readonly #token: string;
  readonly #leaseMs: number;
  readonly #clock: Clock;
  readonly #listener: HeartbeatListener;
  readonly #interval: number;
  #deadline: number;
  #stopped = false;
  #controller: AbortController | undefined;
  #reason: LeaseLostError | undefined;
  #tickTimer: ReturnType<typeof setTimeout> | undefined;
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * Starts renewing at once. `since` is the engine's clock just before the `begin` that granted
   * the lease.
   */
  constructor(store: Store, ref: KeyRef, token: string, leaseMs: number, clock: Clock, since: number, listener: HeartbeatListener) {
    this.#store = store;
    this.#ref = ref;
    this.#token = token;
    this.#leaseMs = leaseMs;
    this.#clock = clock;
    this.#listener = listener;
    this.#interval = Math.max(1, Math.floor(leaseMs / 3));
    this.#deadline = since + leaseMs;
    this.#tickTimer = unrefTimer(onTick, this.#interval, this);
  }

  /** Aborts, with a LeaseLostError as reason, when the lease is lost. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#reason !== undefined) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  /** Stop renewing and clear every timer. Idempotent. */
  stop(): void {
    this.#stopped = true;
    if (this.#tickTimer !== undefined) clearTimeout(this.#tickTimer);
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
  }

  #lose(error: LeaseLostError): void {
    if (this.#stopped) return;
    this.stop();
    this.#reason = error;
    this.#controller?.abort(error);
    this.#listener.onLost(error);
  }

  #expired(): LeaseLostError {
    return new LeaseLostError(this.#ref, 'the lease expired before it could be renewed');
  }

  /** @internal the deadline timer fired */
  checkDeadline(): void {
    if (this.#clock.now() >= this.#deadline) this.#lose(this.#expired());
    else this.#armDeadline();
  }

  #armDeadline(): void {
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    this.#deadlineTimer = unrefTimer(onDeadline, this.#deadline - this.#clock.now(), this);
  }

  /** @internal the renewal timer fired */
  async tick(): Promise<void> {
    if (this.#stopped) return;
    if (this.#clock.now() >= this.#deadline) return this.#lose(this.#expired());
    // First renewal: from now on the deadline needs its own timer, as an extend may hang.
    if (this.#deadlineTimer === undefined) this.#armDeadline();
    const sent = this.#clock.now();
    try {
      await this.#store.extend(this.#ref, this.#token, this.#leaseMs);
      if (this.#stopped) return;
      this.#deadline = Math.max(this.#deadline, sent + this.#leaseMs);
      this.#armDeadline();
    } catch (error) {
      if (this.#stopped) return;
      if (isLeaseLostError(error)) return this.#lose(error);
      this.#listener.onExtendError(error);
    }
    this.#tickTimer = unrefTimer(onTick, this.#interval, this);
  }
}

function onTick(heartbeat: Heartbeat): void {
  void heartbeat.tick();
}

function onDeadline(heartbeat: Heartbeat): void {
  heartbeat.checkDeadline();
}

function unrefTimer(fn: (heartbeat: Heartbeat) => void, ms: number, heartbeat: Heartbeat): ReturnType<typeof setTimeout> {
  const timer = setTimeout(fn, Math.max(1, ms), heartbeat);
  timer.unref?.();
  return timer;
}
