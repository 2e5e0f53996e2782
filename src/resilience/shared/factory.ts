/** What the shared-state factories (`redisBreakerState`, `postgresBreakerState`) check alike. */
import { assertKnownOptions, nonEmptyString, withMethods } from '../options.js';
import { SHARED_STATE_OPTIONS, type SharedBreakerStateOptions } from './shared-state.js';

/** The database client a factory takes: its option, what it is (for errors), the methods it needs. */
export interface DriverOption<O> {
  readonly option: keyof O & string;
  readonly kind: string;
  readonly methods: readonly string[];
}

/**
 * Check a factory's options, in this order: no unknown names (its `own` and the shared ones), the
 * driver, and `name` (the breaker's key or row), a non-empty string. The factory checks the rest
 * of its own; returns the options for {@link SharedBreakerState}, which checks those.
 */
export function checkFactoryOptions<O extends SharedBreakerStateOptions>(
  context: string,
  options: O,
  own: readonly (keyof O & string)[],
  driver: DriverOption<O>,
  name: keyof O & string,
): SharedBreakerStateOptions {
  assertKnownOptions(context, options, [...own, ...SHARED_STATE_OPTIONS]);
  withMethods(`${context}.${driver.option}`, options?.[driver.option], driver.methods, driver.kind);
  nonEmptyString(`${context}.${name}`, options[name]);
  const { timeoutMs, retryStoreAfterMs, clock } = options;
  return { timeoutMs, retryStoreAfterMs, clock };
}
