import { describe, expect, test } from 'vitest';
import { endToEnd, forwardedElement, upstreamRequestHeaders, upstreamResponseHeaders } from './headers.js';

const pairs = (flat: string[]): [string, string][] => flat.flatMap((v, i) => (i % 2 ? [] : [[v, flat[i + 1]!] as [string, string]]));

describe('hop-by-hop headers', () => {
  test('fixed ones and those Connection lists are dropped, case-insensitively; the rest kept in order, lower-cased', () => {
    expect(
      endToEnd([
        ['Connection', 'keep-alive, X-Hop'],
        ['X-Hop', '1'],
        ['Keep-Alive', 'timeout=5'],
        ['Transfer-Encoding', 'chunked'],
        ['TE', 'trailers'],
        ['Upgrade', 'websocket'],
        ['Proxy-Authorization', 'Basic x'],
        ['Accept', 'a'],
        ['Accept', 'b'],
      ]),
    ).toEqual([
      ['accept', 'a'],
      ['accept', 'b'],
    ]);
  });

  test('responses: repeated headers (set-cookie) stay separate', () => {
    expect(
      upstreamResponseHeaders({ 'set-cookie': ['a=1', 'b=2'], connection: 'close', 'content-type': 'text/plain', absent: undefined }),
    ).toEqual([
      ['set-cookie', 'a=1'],
      ['set-cookie', 'b=2'],
      ['content-type', 'text/plain'],
    ]);
  });
});

describe('forwarding headers', () => {
  test('Forwarded elements quote what is not a token; IPv6 is bracketed and quoted; no address is "unknown"', () => {
    expect(forwardedElement('192.0.2.1', 'api.example.com', 'http')).toBe('for=192.0.2.1;host=api.example.com;proto=http');
    expect(forwardedElement('2001:db8::1', 'api:8787', 'https')).toBe('for="[2001:db8::1]";host="api:8787";proto=https');
    expect(forwardedElement(undefined, undefined, 'http')).toBe('for=unknown;proto=http');
  });

  test('this hop is appended to what earlier proxies sent; Host and Expect are not forwarded', () => {
    const out = pairs(
      upstreamRequestHeaders(
        [
          ['Host', 'gw:8787'],
          ['Expect', '100-continue'],
          ['X-Forwarded-For', '203.0.113.9'],
          ['Forwarded', 'for=203.0.113.9'],
          ['Idempotency-Key', '"k"'],
        ],
        { address: '::ffff:10.0.0.5', host: 'gw:8787', proto: 'http' },
      ),
    );
    expect(out).toEqual([
      ['idempotency-key', '"k"'],
      ['forwarded', 'for=203.0.113.9, for=10.0.0.5;host="gw:8787";proto=http'],
      ['x-forwarded-for', '203.0.113.9, 10.0.0.5'],
      ['x-forwarded-proto', 'http'],
      ['x-forwarded-host', 'gw:8787'],
    ]);
  });
});
