/**
 * The `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header): a Structured
 * Field string such as `"8e03978e-40d5-43e8-bc93-6894a57f9324"`. Stripe-style clients send the
 * key bare (`Idempotency-Key: 8e03978e-…`), so a bare value of visible ASCII is accepted too unless
 * `acceptBareKey` is false. `"abc"` and `abc` are the same key.
 */
import { parseItem } from 'structured-headers';
import { BARE_KEY, MAX_KEY_LENGTH } from '../core/ref.js';

/** Longest key, in characters (Stripe's limit, and the usual one): the engine's key limit. */
export const MAX_IDEMPOTENCY_KEY_LENGTH = MAX_KEY_LENGTH;

export interface ParseKeyOptions {
  /** Accept an unquoted key (`abc`) as well as the Structured Field string (`"abc"`); default true. */
  readonly acceptBareKey?: boolean;
}

export type ParsedKey =
  { readonly kind: 'missing' } | { readonly kind: 'key'; readonly key: string } | { readonly kind: 'malformed'; readonly detail: string };

/** Parse a header value (`null` when the header is absent). Never throws. */
export function parseIdempotencyKey(value: string | null | undefined, options: ParseKeyOptions = {}): ParsedKey {
  if (value === null || value === undefined) return { kind: 'missing' };
  const text = value.trim();
  if (text === '') return { kind: 'malformed', detail: 'the Idempotency-Key header is empty' };
  let key: string;
  if (text.startsWith('"')) {
    const parsed = parseSfString(text);
    if (typeof parsed !== 'string') return parsed;
    key = parsed;
  } else if (options.acceptBareKey === false) {
    return { kind: 'malformed', detail: 'the Idempotency-Key must be a quoted string, e.g. Idempotency-Key: "8e03978e-40d5"' };
  } else if (BARE_KEY.test(text)) {
    key = text;
  } else {
    return { kind: 'malformed', detail: 'the Idempotency-Key holds characters other than visible ASCII (a quoted key may hold spaces)' };
  }
  if (key.length === 0) return { kind: 'malformed', detail: 'the Idempotency-Key is an empty string' };
  if (key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    return {
      kind: 'malformed',
      detail: `the Idempotency-Key has ${key.length} characters, at most ${MAX_IDEMPOTENCY_KEY_LENGTH} are allowed`,
    };
  }
  return { kind: 'key', key };
}

function parseSfString(text: string): string | ParsedKey {
  let item;
  try {
    item = parseItem(text);
  } catch (error) {
    // Also what two Idempotency-Key headers combined into one ("a", "b") look like.
    return { kind: 'malformed', detail: `the Idempotency-Key is not a valid Structured Field string: ${(error as Error).message}` };
  }
  // Parameters (`"abc";foo=1`) are ignored, as RFC 9651 asks of unknown parameters.
  const [bare] = item;
  if (typeof bare !== 'string') return { kind: 'malformed', detail: 'the Idempotency-Key must be a string' };
  return bare;
}
