import type { KeyRecord, RecordState } from '../contract.js';

/** A key row as the driver returns it: bigint columns arrive as strings. */
export interface KeyRow {
  scope: string;
  key: string;
  state: RecordState;
  fingerprint: string;
  attempt: number;
  created_at: string;
  expires_at: string;
  token: string | null;
  lease_until: string | null;
  outcome: string | null;
  completed_at: string | null;
}

/** Millisecond timestamps fit a double exactly until the year 287396. */
export const ms = (value: string): number => Number(value);

export function rowToRecord(row: KeyRow): KeyRecord {
  const base = {
    scope: row.scope,
    key: row.key,
    state: row.state,
    fingerprint: row.fingerprint,
    attempt: row.attempt,
    createdAt: ms(row.created_at),
    expiresAt: ms(row.expires_at),
  };
  return row.state === 'in_progress'
    ? { ...base, token: row.token!, leaseUntil: ms(row.lease_until!) }
    : { ...base, outcome: row.outcome!, completedAt: ms(row.completed_at!) };
}
