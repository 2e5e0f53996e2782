import { describe, expect, test } from 'vitest';
import { fingerprint } from '../engine/fingerprint.js';
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { requestFingerprinter } from './request-fingerprint.js';

const post = (url: string, body: string, contentType = 'application/json', method = 'POST'): [Request, Uint8Array] => {
  const bytes = new TextEncoder().encode(body);
  return [new Request(url, { method, headers: { 'content-type': contentType } }), bytes];
};

async function print(option: Parameters<typeof requestFingerprinter>[0], ...[request, body]: [Request, Uint8Array]): Promise<string> {
  return fingerprint(await requestFingerprinter(option)(request, body));
}

describe('request fingerprint', () => {
  test('JSON counts by meaning: key order, spacing and number spelling do not matter', async () => {
    const a = await print(undefined, ...post('http://x/orders', '{"a":1,"b":{"c":[1,2]}}'));
    const b = await print(undefined, ...post('http://x/orders', ' { "b" : { "c" : [1, 2.0] }, "a" : 1e0 } '));
    expect(a).toBe(b);
    expect(await print(undefined, ...post('http://x/orders', '{"a":2,"b":{"c":[1,2]}}'))).not.toBe(a);
    expect(await print(undefined, ...post('http://x/orders', '{"a":1,"b":{"c":[1,2]}}', 'application/vnd.api+json'))).toBe(a);
  });

  test('method, path and query count; each can be left out', async () => {
    const base = await print(undefined, ...post('http://x/orders?x=1', '{}'));
    expect(await print(undefined, ...post('http://x/orders?x=2', '{}'))).not.toBe(base);
    expect(await print(undefined, ...post('http://x/other?x=1', '{}'))).not.toBe(base);
    expect(await print(undefined, ...post('http://x/orders?x=1', '{}', 'application/json', 'PATCH'))).not.toBe(base);
    expect(await print({ query: false }, ...post('http://x/orders?x=2', '{}'))).toBe(
      await print({ query: false }, ...post('http://x/orders?x=1', '{}')),
    );
    expect(await print({ method: false }, ...post('http://x/orders', '{}', 'application/json', 'PATCH'))).toBe(
      await print({ method: false }, ...post('http://x/orders', '{}')),
    );
    expect(await print({ body: false }, ...post('http://x/orders', '{"a":1}'))).toBe(
      await print({ body: false }, ...post('http://x/orders', '{"a":2}')),
    );
  });

  test('ignored fields, nested too, do not count; the parsed body is not modified', async () => {
    const option = { ignoreFields: ['sentAt', 'meta.traceId'] };
    const a = await print(option, ...post('http://x/o', '{"a":1,"sentAt":"10:00","meta":{"traceId":"t1","v":1}}'));
    const b = await print(option, ...post('http://x/o', '{"a":1,"sentAt":"11:00","meta":{"traceId":"t2","v":1}}'));
    const c = await print(option, ...post('http://x/o', '{"a":1,"sentAt":"11:00","meta":{"traceId":"t2","v":2}}'));
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });

  test('a __proto__ field stays an ordinary field when others are ignored', async () => {
    const option = { ignoreFields: ['x'] };
    const a = await print(option, ...post('http://x/o', '{"__proto__":{"admin":true},"x":1}'));
    const b = await print(option, ...post('http://x/o', '{"__proto__":{"admin":false},"x":1}'));
    expect(a).not.toBe(b);
  });

  test('non-JSON bodies count by their exact bytes', async () => {
    const a = await print(undefined, ...post('http://x/o', 'a=1&b=2', 'application/x-www-form-urlencoded'));
    expect(await print(undefined, ...post('http://x/o', 'b=2&a=1', 'application/x-www-form-urlencoded'))).not.toBe(a);
    // Invalid JSON under a JSON content type: bytes too, no error.
    const broken = await print(undefined, ...post('http://x/o', '{"a":', 'application/json'));
    expect(broken).toMatch(/^[0-9a-f]{64}$/);
    expect(await print(undefined, ...post('http://x/o', '{"a": ', 'application/json'))).not.toBe(broken);
  });

  test('selected headers count', async () => {
    const option = { headers: ['X-Currency'] };
    const eur = new Request('http://x/o', { method: 'POST', headers: { 'x-currency': 'EUR' } });
    const usd = new Request('http://x/o', { method: 'POST', headers: { 'x-currency': 'USD' } });
    const empty = new Uint8Array(0);
    expect(await print(option, eur, empty)).not.toBe(await print(option, usd, empty));
    expect(await print(undefined, eur, empty)).toBe(await print(undefined, usd, empty));
  });

  test('a custom function replaces every part', async () => {
    const byTenantOrder = (request: Request) => ({ order: new URL(request.url).searchParams.get('order') });
    expect(await print(byTenantOrder, ...post('http://x/a?order=1', '{"a":1}'))).toBe(
      await print(byTenantOrder, ...post('http://x/b?order=1', '{"a":2}')),
    );
  });

  test('bad options fail at construction', () => {
    expect(() => requestFingerprinter({ ignoreFeilds: ['a'] } as never)).toThrow(InvalidOptionError);
    expect(() => requestFingerprinter({ ignoreFields: ['a..b'] })).toThrow(InvalidOptionError);
    expect(() => requestFingerprinter({ ignoreFields: [''] })).toThrow(InvalidOptionError);
    // The entry at fault is named, with what was found there.
    expect(() => requestFingerprinter({ ignoreFields: ['a', 5] as never })).toThrow(/fingerprint\.ignoreFields\[1\].*got 5/);
    expect(() => requestFingerprinter({ ignoreFields: 'a' as never })).toThrow(/fingerprint\.ignoreFields.*array of strings/);
    expect(() => requestFingerprinter({ headers: ['x', 1] as never })).toThrow(/fingerprint\.headers.*array of strings/);
  });
});
