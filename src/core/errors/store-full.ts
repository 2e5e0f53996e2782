import { OncekeyError } from './oncekey-error.js';

/** A bounded store has no record it may evict (every record is in progress). */
export class StoreFullError extends OncekeyError {
  readonly code = 'STORE_FULL' as const;
  constructor(readonly maxRecords: number) {
    super(`store is full: ${maxRecords} records, none expired or completed to evict`);
  }
}

export const isStoreFullError = (e: unknown): e is StoreFullError => e instanceof StoreFullError;
