import type { TimerClock } from '../core/time.js';
import { DeadlineExceededError } from './errors/deadline-exceeded.js';
import type { ExecuteContext, ExecuteOptions, Task } from './policy.js';

/** One execution's context and the cleanup of the timer and listener that feed its signal. */
export interface Scope {
  readonly context: ExecuteContext;
  close(): void;
}

// Signals we created, with the deadline at which they abort: an inner layer that sees one of
// these with an equal or earlier deadline reuses it instead of arming another timer.
const enforcedDeadline = new WeakMap<AbortSignal, number>();
const neverAborts = new AbortController().signal;
const noop = (): void => {};

export const earliest = (a: number | undefined, b: number | undefined): number | undefined =>
  a === undefined ? b : b === undefined ? a : Math.min(a, b);

/**
 * Build the context for one execution: the deadline is the earlier of the caller's and the
 * policy's own, and the signal aborts when the caller's does or when that deadline passes.
 */
export function openScope(options: ExecuteOptions | undefined, clock: TimerClock, ownDeadline?: number): Scope {
  const parent = options?.signal;
  const deadline = earliest(options?.deadline, ownDeadline);
  const attempt = options?.attempt ?? 1;
  if (deadline === undefined || (parent !== undefined && (enforcedDeadline.get(parent) ?? Infinity) <= deadline)) {
    return { context: { signal: parent ?? neverAborts, deadline, attempt }, close: noop };
  }

  const controller = new AbortController();
  enforcedDeadline.set(controller.signal, deadline);
  let timer: unknown;
  const onParentAbort = (): void => {
    controller.abort(parent?.reason);
    close();
  };
  const close = (): void => {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    parent?.removeEventListener('abort', onParentAbort);
  };

  const remaining = deadline - clock.now();
  if (parent?.aborted) controller.abort(parent.reason);
  else if (remaining <= 0) controller.abort(new DeadlineExceededError(deadline));
  else {
    parent?.addEventListener('abort', onParentAbort, { once: true });
    timer = clock.setTimeout(() => {
      timer = undefined;
      controller.abort(new DeadlineExceededError(deadline));
      close();
    }, remaining);
  }
  return { context: { signal: controller.signal, deadline, attempt }, close };
}

/** Run a task so that a synchronous throw becomes a rejection like any other failure. */
export async function runTask<T>(task: Task<T>, context: ExecuteContext): Promise<T> {
  return await task(context);
}

/**
 * True when the caller gave up (its signal aborted for a reason other than a deadline). Such an
 * outcome says nothing about the dependency's health, so breakers do not count it.
 */
export const isCancelled = (signal: AbortSignal | undefined): boolean =>
  signal !== undefined && signal.aborted && !(signal.reason instanceof DeadlineExceededError);
