/** Decoding the record hash (field names in scripts.ts) into the contract's `KeyRecord`. */
import type { KeyRecord } from '../contract.js';

/** `fields` is HGETALL's flat `[field, value, …]` list of a live record. */
export function toRecord(scope: string, key: string, fields: readonly unknown[]): KeyRecord {
  const f = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2) f.set(String(fields[i]), String(fields[i + 1]));
  const num = (name: string): number => {
    const v = f.get(name);
    const n = Number(v);
    if (v === undefined || !Number.isFinite(n)) throw new Error(`record ${scope}/${key}: field ${name} is ${String(v)}`);
    return n;
  };
  const base = {
    scope,
    key,
    fingerprint: f.get('fp') ?? '',
    attempt: num('at'),
    createdAt: num('ca'),
    expiresAt: num('ex'),
  };
  return f.get('st') === 'c'
    ? { ...base, state: 'completed', outcome: f.get('oc') ?? '', completedAt: num('co') }
    : { ...base, state: 'in_progress', token: f.get('tk') ?? '', leaseUntil: num('lu') };
}
