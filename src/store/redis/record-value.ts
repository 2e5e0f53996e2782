/**
 * The record string as `begin`'s fast path writes and reads it, outside a script (the layout is
 * in scripts.ts, whose `load` and `save` are the other reader and writer):
 *
 *   2:<state>:<attempt>:<createdAt>:<expiresAt>:<leaseUntil>:<completedAt>:<fpBytes>:<tokenBytes>:<fingerprint><token><outcome>
 */

/** A fresh in-progress record on the server's clock: ttlMs and leaseMs stand where the times go. */
export function freshValue(fingerprint: string, token: string, leaseMs: number, ttlMs: number): string {
  return `2:f:1:${ttlMs}::${leaseMs}:0:${Buffer.byteLength(fingerprint)}:${Buffer.byteLength(token)}:${fingerprint}${token}`;
}

/** A fresh in-progress record with absolute times (an injected clock's `now`). */
export function inProgressValue(fingerprint: string, token: string, now: number, leaseMs: number, ttlMs: number): string {
  return `2:p:1:${now}:${now + ttlMs}:${now + leaseMs}:0:${Buffer.byteLength(fingerprint)}:${Buffer.byteLength(token)}:${fingerprint}${token}`;
}

/** What the fast path needs of a record it found. */
export interface FoundRecord {
  /** `p` and `f` are in progress, `c` completed. */
  readonly state: 'p' | 'f' | 'c';
  /** For `p` and `c`; NaN for `f` (its expiry is the key's). */
  readonly expiresAt: number;
  readonly completedAt: number;
  /** The stored fingerprint equals the one asked about (compared as UTF-8 bytes). */
  readonly sameFingerprint: boolean;
  readonly outcome: string;
}

const COLON = 0x3a;

/**
 * Read a record value as Redis returned it, judging its fingerprint against `fingerprint`.
 * Undefined for anything else (a record of version 1, or not ours): the caller then asks the
 * script, which reads every version.
 */
export function readValue(value: Buffer, fingerprint: string): FoundRecord | undefined {
  if (value[0] !== 0x32 || value[1] !== COLON) return undefined;
  const f: string[] = [];
  let from = 2;
  for (let n = 0; n < 8; n++) {
    const colon = value.indexOf(COLON, from);
    if (colon < 0) return undefined;
    f.push(value.toString('latin1', from, colon));
    from = colon + 1;
  }
  const state = f[0];
  if (state !== 'p' && state !== 'f' && state !== 'c') return undefined;
  const fpBytes = Number(f[6]);
  const tokenBytes = Number(f[7]);
  if (!Number.isSafeInteger(fpBytes) || !Number.isSafeInteger(tokenBytes) || from + fpBytes + tokenBytes > value.length) {
    return undefined;
  }
  const asked = Buffer.from(fingerprint, 'utf8');
  return {
    state,
    expiresAt: state === 'f' ? Number.NaN : Number(f[3]),
    completedAt: Number(f[5]),
    sameFingerprint: asked.length === fpBytes && asked.equals(value.subarray(from, from + fpBytes)),
    outcome: state === 'c' ? value.toString('utf8', from + fpBytes + tokenBytes) : '',
  };
}
