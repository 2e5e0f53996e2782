import { describe, expect, it } from 'vitest';
import { parseHttpDate, parseRetryAfter, parseRetryAfterMs, readRetryAfter, retryAfterFromHeaders } from './retry-after.js';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0); // Wed, 15 Jan 2025 12:00:00 GMT

describe('parseRetryAfter', () => {
  it('reads delay-seconds', () => {
    expect(parseRetryAfter('120', NOW)).toBe(120_000);
    expect(parseRetryAfter(' 0 ', NOW)).toBe(0);
  });

  it('reads an HTTP-date relative to the injected now, not the real time', () => {
    expect(parseRetryAfter('Wed, 15 Jan 2025 12:00:30 GMT', NOW)).toBe(30_000);
    expect(parseRetryAfter('Wed, 15 Jan 2025 12:00:30 GMT', NOW + 10_000)).toBe(20_000);
  });

  it('answers 0 for a date in the past', () => {
    expect(parseRetryAfter('Tue, 14 Jan 2025 12:00:00 GMT', NOW)).toBe(0);
  });

  it('accepts the obsolete RFC 850 and asctime formats', () => {
    expect(parseRetryAfter('Wednesday, 15-Jan-25 12:01:00 GMT', NOW)).toBe(60_000);
    expect(parseRetryAfter('Wed Jan 15 12:00:05 2025', NOW)).toBe(5_000);
    expect(parseHttpDate('Sun Nov  6 08:49:37 1994', NOW)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
    // A two-digit year more than 50 years ahead means the previous century.
    expect(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT', NOW)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37));
  });

  it('rejects what is neither', () => {
    for (const bad of ['', '-5', '1.5', 'soon', '2025-01-15T12:00:30Z', 'Wed, 15 Foo 2025 12:00:30 GMT']) {
      expect(parseRetryAfter(bad, NOW)).toBeUndefined();
    }
  });
});

describe('retry-after-ms and header lookup', () => {
  it('parses milliseconds, fractions included', () => {
    expect(parseRetryAfterMs('1500')).toBe(1500);
    expect(parseRetryAfterMs('12.5')).toBe(12.5);
    expect(parseRetryAfterMs('-1')).toBeUndefined();
    expect(parseRetryAfterMs('abc')).toBeUndefined();
  });

  it('prefers retry-after-ms over Retry-After, in Headers and in plain objects', () => {
    expect(retryAfterFromHeaders(new Headers({ 'Retry-After': '3', 'retry-after-ms': '250' }), NOW)).toBe(250);
    expect(retryAfterFromHeaders(new Headers({ 'Retry-After': '3' }), NOW)).toBe(3000);
    expect(retryAfterFromHeaders({ 'RETRY-AFTER': '2' }, NOW)).toBe(2000);
    expect(retryAfterFromHeaders({ 'retry-after': ['4', '9'] }, NOW)).toBe(4000);
    expect(retryAfterFromHeaders({ 'retry-after-ms': 'x', 'retry-after': '1' }, NOW)).toBe(1000);
    expect(retryAfterFromHeaders({}, NOW)).toBeUndefined();
  });
});

describe('readRetryAfter (the retry policy default)', () => {
  it('reads a Response, an error with response.headers, and retryAfterMs', () => {
    const response = new Response(null, { status: 503, headers: { 'Retry-After': 'Wed, 15 Jan 2025 12:00:02 GMT' } });
    expect(readRetryAfter(response, NOW)).toBe(2000);
    expect(readRetryAfter({ response: { headers: { 'retry-after': '7' } } }, NOW)).toBe(7000);
    expect(readRetryAfter(Object.assign(new Error('busy'), { retryAfterMs: 900 }), NOW)).toBe(900);
    expect(readRetryAfter(new Error('plain'), NOW)).toBeUndefined();
    expect(readRetryAfter('503', NOW)).toBeUndefined();
    expect(readRetryAfter(null, NOW)).toBeUndefined();
  });
});
