/**
 * The request every store benchmark stores: one scope, one body fingerprint and a ~200-byte
 * outcome (a small JSON response, padded), with the lease and retention of an ordinary call.
 * Benchmarks that need another retention keep their own (scale's sweep relies on 1 h).
 */

export const SCOPE = 'tenant-42 POST /v1/payments';

/** A SHA-256 in hex, as the engine stores it. */
export const FINGERPRINT = 'a3f1c9e2b7d45e8f0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f6071';

const RESPONSE = JSON.stringify({
  status: 201,
  headers: { 'content-type': 'application/json' },
  body: { id: 'pay_3N9xQe2LkYb7Rz', amount: 4200, currency: 'eur', state: 'captured', created: 1_764_000_000 },
});

/** A stored response of about `bytes` bytes: the JSON response, padded with spaces when shorter. */
export function outcomeOf(bytes: number): string {
  return RESPONSE.padEnd(bytes, ' ');
}

/** The ~200-byte outcome. */
export const OUTCOME = outcomeOf(200);

export const LEASE_MS = 30_000;

/** 24 h. */
export const TTL_MS = 86_400_000;
