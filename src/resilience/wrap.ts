import { InvalidOptionError } from '../core/errors/invalid-option.js';
import type { FallbackPolicy } from './fallback.js';
import type { ExecuteOptions, Policy, Task } from './policy.js';

/**
 * What a policy may return besides the task's own result: a fallback's value, or `never`.
 * (TypeScript cannot infer it through the generic `execute`, so the classes are named; a policy
 * of your own whose `execute` returns more than `Promise<T>` counts as `unknown`.)
 */
export type ExtraOf<P> =
  P extends FallbackPolicy<infer F>
    ? F
    : P extends WrappedPolicy<infer E>
      ? E
      : P extends { execute<T>(task: Task<T>, options?: ExecuteOptions): Promise<T> }
        ? never
        : unknown;

/**
 * Policies nested in order, the first outermost: `wrap(timeout(2000), retry(), breaker)` runs
 * `timeout(() => retry(() => breaker(task)))`. One signal and one deadline flow through every
 * layer, each layer may only tighten them, and the task sees the result in its context.
 */
export class WrappedPolicy<Extra> implements Policy<Extra> {
  constructor(readonly policies: readonly Policy<unknown>[]) {
    if (policies.length === 0) throw new InvalidOptionError('wrap', 'expected at least one policy');
    policies.forEach((p, i) => {
      if (typeof p?.execute !== 'function') throw new InvalidOptionError(`wrap[${i}]`, 'expected a policy');
    });
  }

  execute<T>(task: Task<T>, options?: ExecuteOptions): Promise<T | Extra> {
    const [outer, ...inner] = this.policies;
    const nested = inner.reduceRight<Task<unknown>>((next, policy) => (context) => policy.execute(next, context), task);
    return outer!.execute(nested, options) as Promise<T | Extra>;
  }
}

/** Compose policies, the first outermost; see {@link WrappedPolicy}. */
export function wrap<const P extends readonly Policy<unknown>[]>(...policies: P): WrappedPolicy<ExtraOf<P[number]>> {
  return new WrappedPolicy(policies);
}
