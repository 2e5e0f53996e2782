import { OncekeyError } from '../../core/errors/oncekey-error.js';

/** The circuit was isolated by hand (`breaker.isolate()`); calls fail until the handle is disposed. */
export class IsolatedCircuitError extends OncekeyError {
  readonly code = 'CIRCUIT_ISOLATED' as const;
  constructor() {
    super('circuit is isolated');
  }
}

export const isIsolatedCircuitError = (e: unknown): e is IsolatedCircuitError => e instanceof IsolatedCircuitError;
