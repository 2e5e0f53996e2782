import { describe, expect, test } from 'vitest';
import { jsonCodec } from '../engine/codec.js';
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { fromStoredValue, pickHeaders, replayHeaderSet, replayResponse, toStoredValue } from './stored-response.js';

describe('stored responses', () => {
  test('round-trip through the engine codec keeps every byte, binary included', async () => {
    const body = Uint8Array.from({ length: 1024 }, (_, i) => (i * 7) & 255);
    const value = toStoredValue({ kind: 'response', status: 201, headers: [['content-type', 'application/octet-stream']], body });
    const back = fromStoredValue(jsonCodec.decode(jsonCodec.encode(value)));
    expect(back.kind).toBe('response');
    const replay = replayResponse(back as Extract<typeof back, { kind: 'response' }>);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.headers.get('content-length')).toBe('1024');
    expect(new Uint8Array(await replay.arrayBuffer())).toEqual(body);
  });

  test('only allow-listed headers are kept; Set-Cookie and credentials can never be allowed', () => {
    const headers = new Headers([
      ['content-type', 'application/json'],
      ['set-cookie', 'a=1'],
      ['location', '/orders/1'],
      ['x-debug', 'yes'],
    ]);
    expect(pickHeaders(headers, replayHeaderSet('o'))).toEqual([
      ['content-type', 'application/json'],
      ['location', '/orders/1'],
    ]);
    expect(pickHeaders(headers, replayHeaderSet('o', ['X-Debug']))).toEqual([['x-debug', 'yes']]);
    for (const name of ['Set-Cookie', 'authorization', 'WWW-Authenticate', 'proxy-authenticate', 'content-length']) {
      expect(() => replayHeaderSet('o', [name])).toThrow(InvalidOptionError);
    }
  });

  test('outcomes written by something else are refused, not replayed', () => {
    expect(() => fromStoredValue({ order: 1 })).toThrow(/not an HTTP response/);
    expect(() => fromStoredValue(null)).toThrow(/not an HTTP response/);
    expect(fromStoredValue(toStoredValue({ kind: 'too_large', status: 200, limit: 5 }))).toEqual({
      kind: 'too_large',
      status: 200,
      limit: 5,
    });
  });
});
