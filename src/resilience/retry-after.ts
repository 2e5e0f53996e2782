/**
 * Server-directed delays: `Retry-After` (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) and
 * `retry-after-ms` (milliseconds, sent by OpenAI/Anthropic-style APIs and read by Stainless SDKs).
 * HTTP-dates are judged against the injected clock, never `Date.now()`.
 */

/** `Headers`, or a plain object of header values (names matched case-insensitively). */
export type HeadersLike =
  { get(name: string): string | null | undefined } | Readonly<Record<string, string | readonly string[] | undefined>>;

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const MONTH = '(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
const IMF_FIXDATE = new RegExp(`^[a-z]{3}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`, 'i');
const RFC850_DATE = new RegExp(`^[a-z]{6,9}, (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`, 'i');
const ASCTIME_DATE = new RegExp(`^[a-z]{3} ${MONTH} ( \\d|\\d{2}) ${TIME} (\\d{4})$`, 'i');

function utc(year: number, month: string, day: string, h: string, m: string, s: string): number | undefined {
  const time = Date.UTC(year, MONTHS.indexOf(month.toLowerCase()), Number(day), Number(h), Number(m), Number(s));
  return Number.isNaN(time) ? undefined : time;
}

/** Parse an HTTP-date in any of the three formats RFC 9110 requires recipients to accept. */
export function parseHttpDate(value: string, now: number): number | undefined {
  let match = IMF_FIXDATE.exec(value);
  if (match) return utc(Number(match[3]), match[2]!, match[1]!, match[4]!, match[5]!, match[6]!);
  match = ASCTIME_DATE.exec(value);
  if (match) return utc(Number(match[6]), match[1]!, match[2]!.trim(), match[3]!, match[4]!, match[5]!);
  match = RFC850_DATE.exec(value);
  if (match) {
    // RFC 9110: a two-digit year more than 50 years in the future is the most recent past such year.
    const currentYear = new Date(now).getUTCFullYear();
    let year = Math.floor(currentYear / 100) * 100 + Number(match[3]);
    if (year > currentYear + 50) year -= 100;
    return utc(year, match[2]!, match[1]!, match[4]!, match[5]!, match[6]!);
  }
  return undefined;
}

/**
 * Milliseconds to wait according to a `Retry-After` value, relative to `now`; 0 for a date in the
 * past; undefined when the value is neither delay-seconds nor an HTTP-date.
 */
export function parseRetryAfter(value: string, now: number): number | undefined {
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = parseHttpDate(trimmed, now);
  return date === undefined ? undefined : Math.max(0, date - now);
}

/** Milliseconds from a `retry-after-ms` value (a non-negative decimal), or undefined. */
export function parseRetryAfterMs(value: string): number | undefined {
  const trimmed = value.trim();
  if (!/^\d+(\.\d+)?$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

function header(headers: HeadersLike, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null | undefined }).get(name) ?? undefined;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (key.toLowerCase() !== name) continue;
    return typeof value === 'string' ? value : Array.isArray(value) ? value[0] : undefined;
  }
  return undefined;
}

/** The server-directed delay in a set of headers: `retry-after-ms` first, then `Retry-After`. */
export function retryAfterFromHeaders(headers: HeadersLike, now: number): number | undefined {
  const ms = header(headers, 'retry-after-ms');
  const fromMs = ms === undefined ? undefined : parseRetryAfterMs(ms);
  if (fromMs !== undefined) return fromMs;
  const value = header(headers, 'retry-after');
  return value === undefined ? undefined : parseRetryAfter(value, now);
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/**
 * The retry policy's default hint reader. It understands, on an error or a result:
 * a numeric `retryAfterMs` property (Oncekey's `InProgressError`, `BrokenCircuitError`),
 * `headers` (a `Response`, an HTTP error carrying headers) and `response.headers`
 * (errors of ky, got, axios-like clients).
 */
export function readRetryAfter(outcome: unknown, now: number): number | undefined {
  if (!isObject(outcome)) return undefined;
  const direct = outcome.retryAfterMs;
  if (typeof direct === 'number' && Number.isFinite(direct) && direct >= 0) return direct;
  const headers = isObject(outcome.headers)
    ? outcome.headers
    : isObject(outcome.response) && isObject(outcome.response.headers)
      ? outcome.response.headers
      : undefined;
  return headers === undefined ? undefined : retryAfterFromHeaders(headers as HeadersLike, now);
}
