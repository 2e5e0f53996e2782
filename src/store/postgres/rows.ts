import type { KeyRecord, RecordState } from '../contract.js';
import { toRecord } from '../kit.js';
import { isWellFormed } from '../../core/text.js';

/** A key row as the driver returns it: bigint columns arrive as strings, bytea as Buffers. */
export interface KeyRow {
  scope: string;
  key: string;
  state: RecordState;
  fingerprint: Buffer;
  attempt: number;
  created_at: string;
  expires_at: string;
  token: string | null;
  lease_until: string | null;
  outcome: Buffer | null;
  completed_at: string | null;
}

/** Millisecond timestamps fit a double exactly until the year 287396. */
export const ms = (value: string): number => Number(value);

export function rowToRecord(row: KeyRow): KeyRecord {
  return toRecord({
    scope: row.scope,
    key: row.key,
    state: row.state,
    fingerprint: row.fingerprint.toString('utf8'),
    attempt: row.attempt,
    createdAt: ms(row.created_at),
    expiresAt: ms(row.expires_at),
    token: row.token,
    leaseUntil: row.lease_until === null ? null : ms(row.lease_until),
    outcome: row.outcome?.toString('utf8'),
    completedAt: row.completed_at === null ? null : ms(row.completed_at),
  });
}

/**
 * UTF-8 bytes of `value`, or undefined when it is not well-formed UTF-16: a lone surrogate has no
 * UTF-8 form, and encoding it as U+FFFD would let two different strings store as the same bytes.
 */
export function utf8(value: string): Buffer | undefined {
  return isWellFormed(value) ? Buffer.from(value, 'utf8') : undefined;
}
