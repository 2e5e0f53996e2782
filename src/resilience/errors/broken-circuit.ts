import { OncekeyError } from '../../core/errors/oncekey-error.js';

/**
 * The circuit breaker refused the call without running it: the circuit is open, or it is
 * half-open and every trial slot is taken. `retryAfterMs` is how long until the circuit may let
 * a trial through (unknown while half-open), so an outer retry can wait exactly that long.
 */
export class BrokenCircuitError extends OncekeyError {
  readonly code = 'CIRCUIT_OPEN' as const;
  constructor(
    readonly state: 'open' | 'halfOpen',
    readonly retryAfterMs: number | undefined,
  ) {
    super(
      state === 'open'
        ? `circuit is open; a trial may run in ${retryAfterMs} ms`
        : 'circuit is half-open and its trial calls are all taken',
    );
  }
}

export const isBrokenCircuitError = (e: unknown): e is BrokenCircuitError => e instanceof BrokenCircuitError;
