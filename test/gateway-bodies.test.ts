/**
 * Bodies through the gateway: chunked uploads on covered requests (empty, within and over
 * --max-body), large responses streamed on both paths, and a client that leaves mid-response
 * (the upstream's answer is still stored, so the retry replays it instead of running again).
 */
import { Readable } from 'node:stream';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createGateway, type Gateway } from '../src/gateway/index.js';
import { memoryStore } from '../src/store/memory.js';
import { type RunningServer, serve } from './fixtures/gateway-upstream.js';

const CHUNK = Buffer.alloc(10_000, 'x');

describe('bodies through the gateway', () => {
  const runs = new Map<string, number>();
  let upstream: RunningServer;
  let gateway: Gateway;
  let url: string;
  beforeAll(async () => {
    upstream = await serve(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const key = String(req.headers['idempotency-key'] ?? '');
      runs.set(key, (runs.get(key) ?? 0) + 1);
      if (req.url === '/download') {
        // 30 chunks of 10 kB, a little apart: a streamed answer, with no Content-Length.
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        for (let i = 0; i < 30; i++) {
          res.write(Buffer.alloc(10_000, 97 + (i % 26)));
          await new Promise((r) => setTimeout(r, 5));
        }
        res.end();
        return;
      }
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ received: Buffer.concat(chunks).byteLength }));
    });
    gateway = createGateway({
      upstream: upstream.url,
      store: memoryStore(),
      port: 0,
      adminPort: false,
      processMetrics: false,
      maxBody: 25_000,
      log: () => {},
    });
    ({ url } = await gateway.listen());
  });
  afterAll(async () => {
    await gateway.close();
    await upstream.close();
  });

  const chunked = (n: number) => Readable.from(Array.from({ length: n }, () => CHUNK));
  const send = (key: string, body: Readable | null, path = '/orders') =>
    request(`${url}${path}`, { method: 'POST', headers: { 'idempotency-key': key, 'content-type': 'application/octet-stream' }, body });

  test('chunked uploads on covered requests: empty and within --max-body run once, over it is a 413 and nothing runs', async () => {
    const empty = await send('chunked-0', chunked(0));
    expect(empty.statusCode).toBe(201);
    expect(await empty.body.json()).toEqual({ received: 0 });
    const within = await send('chunked-2', chunked(2));
    expect(await within.body.json()).toEqual({ received: 20_000 });
    const again = await send('chunked-2', chunked(2));
    expect(again.headers['idempotent-replayed']).toBe('true');
    await again.body.dump();
    const over = await send('chunked-5', chunked(5));
    expect(over.statusCode).toBe(413);
    expect(await over.body.json()).toMatchObject({ type: 'https://oncekey.dev/problems/body-too-large' });
    expect([runs.get('chunked-0'), runs.get('chunked-2'), runs.get('chunked-5')]).toEqual([1, 1, undefined]);
  });

  test('a large streamed response reaches the caller whole, and its replay is byte-identical; uncovered it streams too', async () => {
    const first = await send('download-1', null, '/download');
    const firstBody = Buffer.from(await first.body.arrayBuffer());
    expect(firstBody.byteLength).toBe(300_000);
    const replay = await send('download-1', null, '/download');
    expect(replay.headers['idempotent-replayed']).toBe('true');
    expect(Buffer.from(await replay.body.arrayBuffer()).equals(firstBody)).toBe(true);
    expect(runs.get('download-1')).toBe(1);

    const plain = await request(`${url}/download`, { method: 'GET' });
    expect(Buffer.from(await plain.body.arrayBuffer()).equals(firstBody)).toBe(true);
  });

  test('a client that leaves mid-response: the answer is still stored, the retry gets it and nothing runs twice', async () => {
    const first = await send('leave-1', null, '/download');
    expect(first.statusCode).toBe(200);
    for await (const _chunk of first.body) break; // read a little, then hang up
    first.body.destroy();

    let retry = await send('leave-1', null, '/download');
    for (let attempt = 0; retry.statusCode === 409 && attempt < 100; attempt++) {
      await retry.body.dump();
      await new Promise((r) => setTimeout(r, 50));
      retry = await send('leave-1', null, '/download');
    }
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    const body = Buffer.from(await retry.body.arrayBuffer());
    expect(body.byteLength).toBe(300_000);
    expect(body.subarray(290_000).every((b) => b === 97 + (29 % 26))).toBe(true);
    expect(runs.get('leave-1')).toBe(1);
  });
});
