/** What a task receives from the policies around it. */
export interface ExecuteContext {
  /**
   * Aborts when the caller's signal aborts or the deadline passes (then its `reason` is a
   * `DeadlineExceededError`). Pass it on to `fetch`, database drivers, child tasks.
   */
  readonly signal: AbortSignal;
  /** The one deadline every layer shares, in milliseconds on the policy clock, if any. */
  readonly deadline: number | undefined;
  /** 1 for the first call; the retry policy raises it for each retry. */
  readonly attempt: number;
}

/** What a caller may hand to `execute`; an {@link ExecuteContext} is one, so layers nest. */
export interface ExecuteOptions {
  readonly signal?: AbortSignal | undefined;
  /** An absolute deadline on the policy clock (`clock.now() + ms`). */
  readonly deadline?: number | undefined;
  readonly attempt?: number | undefined;
}

export type Task<T> = (context: ExecuteContext) => T | PromiseLike<T>;

/**
 * A resilience policy: runs a task under some rule. `Extra` is what the policy may return
 * instead of the task's own result (a fallback value); `never` for the others.
 */
export interface Policy<Extra = never> {
  execute<T>(task: Task<T>, options?: ExecuteOptions): Promise<T | Extra>;
}
