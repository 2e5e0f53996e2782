/**
 * UUID version 7 (RFC 9562 §5.7): a 48-bit Unix timestamp in milliseconds, then random bits, so
 * keys sort by creation time (index-friendly for the server's key table) and do not collide.
 *
 *   0                   1                   2                   3
 *   | unix_ts_ms (48)                           | ver | rand_a (12) |var| rand_b (62)          |
 */

/** Fills a byte array with random bytes. */
export type RandomBytes = (bytes: Uint8Array) => void;

/** Cryptographically strong bytes from Web Crypto (the default). */
export const cryptoRandomBytes: RandomBytes = (bytes) => {
  globalThis.crypto.getRandomValues(bytes);
};

/** Bytes from a `() => number` source in [0, 1), such as an injected seeded random (tests). */
export const randomBytesFrom =
  (random: () => number): RandomBytes =>
  (bytes) => {
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256) & 0xff;
  };

const MAX_TIMESTAMP = 2 ** 48 - 1;

/** A UUIDv7 for the time `now` (ms since the Unix epoch), in the canonical 8-4-4-4-12 form. */
export function uuidv7(now: number, randomBytes: RandomBytes = cryptoRandomBytes): string {
  const bytes = new Uint8Array(16);
  randomBytes(bytes.subarray(6));
  let ms = Math.min(Math.max(0, Math.floor(now)), MAX_TIMESTAMP);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | (bytes[6]! & 0x0f); // version 7
  bytes[8] = 0x80 | (bytes[8]! & 0x3f); // variant 10
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
