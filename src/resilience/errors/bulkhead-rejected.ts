import { OncekeyError } from '../../core/errors/oncekey-error.js';

/** The bulkhead was running `maxConcurrent` calls and its queue of `maxQueue` was full. */
export class BulkheadRejectedError extends OncekeyError {
  readonly code = 'BULKHEAD_REJECTED' as const;
  constructor(
    readonly maxConcurrent: number,
    readonly maxQueue: number,
  ) {
    super(`bulkhead is full: ${maxConcurrent} running, ${maxQueue} queued`);
  }
}

export const isBulkheadRejectedError = (e: unknown): e is BulkheadRejectedError => e instanceof BulkheadRejectedError;
