import { expect, test } from 'vitest';
import { problemResponse } from './problem.js';

test('problem responses are RFC 9457 documents with a type URI per kind', async () => {
  const response = problemResponse('key-in-use', 'still running', { headers: { 'retry-after': '1' }, extensions: { attempt: 1 } });
  expect(response.status).toBe(409);
  expect(response.headers.get('content-type')).toBe('application/problem+json');
  expect(response.headers.get('retry-after')).toBe('1');
  const text = await response.text();
  expect(response.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
  expect(JSON.parse(text)).toEqual({
    type: 'https://oncekey.dev/problems/key-in-use',
    title: 'A request with this Idempotency-Key is in progress',
    status: 409,
    detail: 'still running',
    attempt: 1,
  });
  // Extensions cannot override the standard members.
  const doc = await problemResponse('key-required', 'x', { extensions: { status: 200, type: 'nope' } }).json();
  expect(doc).toMatchObject({ status: 400, type: 'https://oncekey.dev/problems/key-required' });
});
