/** Decoding a record as the scripts return it (see `fields` in scripts.ts) into a `KeyRecord`. */
import type { KeyRecord } from '../contract.js';
import { toRecord } from '../kit.js';

/** `fields` is `{state, fingerprint, attempt, createdAt, expiresAt, token, leaseUntil, outcome, completedAt}`. */
export function recordOf(scope: string, key: string, fields: readonly unknown[]): KeyRecord {
  const [st, fp, at, ca, ex, tk, lu, oc, co] = fields;
  const completed = st === 'c';
  return toRecord({
    scope,
    key,
    state: completed ? 'completed' : 'in_progress',
    fingerprint: String(fp),
    attempt: Number(at),
    createdAt: Number(ca),
    expiresAt: Number(ex),
    ...(completed ? { outcome: String(oc), completedAt: Number(co) } : { token: String(tk), leaseUntil: Number(lu) }),
  });
}
