/** Decoding a record as the scripts return it (see `fields` in scripts.ts) into a `KeyRecord`. */
import type { KeyRecord } from '../contract.js';

/** `fields` is `{state, fingerprint, attempt, createdAt, expiresAt, token, leaseUntil, outcome, completedAt}`. */
export function toRecord(scope: string, key: string, fields: readonly unknown[]): KeyRecord {
  const [st, fp, at, ca, ex, tk, lu, oc, co] = fields;
  const base = {
    scope,
    key,
    fingerprint: String(fp),
    attempt: Number(at),
    createdAt: Number(ca),
    expiresAt: Number(ex),
  };
  return st === 'c'
    ? { ...base, state: 'completed', outcome: String(oc), completedAt: Number(co) }
    : { ...base, state: 'in_progress', token: String(tk), leaseUntil: Number(lu) };
}
