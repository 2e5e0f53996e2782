/**
 * Every call of the Redis store has a deadline and fails closed: no answer in time, or any error
 * from the driver or the server, becomes a {@link StoreUnavailableError}.
 *
 * ioredis' own `commandTimeout` does not bound every wait (a caller's client may have none, or may
 * queue commands while disconnected), so the store keeps deadlines of its own, on one shared timer
 * (see ../deadlines.ts). A call is failed between `timeoutMs` and `timeoutMs` + one sweep (a tenth
 * of the timeout, 5 to 100 ms) after it started.
 *
 * A command abandoned here may still reach Redis later: the scripts are fenced, so a late `begin`
 * at worst holds its key for one lease, and a late `commit`/`release`/`extend` with a stale token
 * does nothing.
 */
import { OncekeyError } from '../../core/errors/oncekey-error.js';
import { StoreUnavailableError } from '../../core/errors/store-unavailable.js';
import { Deadlines } from '../deadlines.js';
import { unreachable } from '../unreachable.js';
import type { Reachability } from './connection.js';

export class CallGuard {
  private readonly deadlines: Deadlines;

  constructor(
    private readonly timeoutMs: number,
    reachability?: Reachability,
  ) {
    const errors = {
      timeout: (what: string, ms: number) => {
        const reason = reachability?.reason(undefined);
        return reason !== undefined
          ? unreachable('redis', what, reachability!.endpoint, `${reason}; no answer within ${ms} ms`)
          : new StoreUnavailableError('redis', `${what} got no answer within ${ms} ms`);
      },
      failure: (what: string, error: unknown) => unavailable(what, error, reachability),
    };
    this.deadlines = new Deadlines(errors, Math.min(100, Math.max(5, Math.floor(timeoutMs / 10))));
  }

  /** Run `work`, its value through `map`; reject with StoreUnavailableError when it fails or outlives the deadline. */
  run<R, T = R>(what: string, work: () => Promise<R>, map?: (value: R) => T): Promise<T> {
    let started: Promise<R>;
    try {
      started = work();
    } catch (error) {
      started = Promise.reject(error);
    }
    return this.deadlines.bound(started, this.timeoutMs, what, map);
  }
}

/** Oncekey's own errors pass through; anything from the driver or the server is unavailability. */
function unavailable(what: string, error: unknown, reachability: Reachability | undefined): unknown {
  if (error instanceof OncekeyError) return error;
  const reason = reachability?.reason(error);
  if (reason !== undefined) return unreachable('redis', what, reachability!.endpoint, reason, error);
  const detail = error instanceof Error ? error.message : String(error);
  return new StoreUnavailableError('redis', `${what} failed: ${detail}`, { cause: error });
}
