import { describe, expect, test } from 'vitest';
import { Hono } from 'hono';
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import { idempotency } from 'oncekey/hono';
import { runHttpBehaviour } from './behaviour.js';
import { listen } from './listen.js';
import { nextTurn } from './app.js';

runHttpBehaviour('oncekey/hono', async ({ handler, options }) => {
  const app = new Hono();
  app.use('*', idempotency(options));
  app.all('*', async (c) => {
    const url = new URL(c.req.url);
    const reply = await handler({
      method: c.req.method,
      path: url.pathname + url.search,
      headers: c.req.raw.headers,
      body: new Uint8Array(await c.req.arrayBuffer()),
    });
    if (reply.throws) throw new Error('handler failed'); // Hono's onError answers 500
    const headers = new Headers();
    for (const [name, value] of reply.headers) headers.append(name, value);
    const chunks = reply.chunks ? [...reply.chunks] : undefined;
    const body = chunks
      ? new ReadableStream<Uint8Array>({
          async pull(controller) {
            const chunk = chunks.shift();
            if (chunk === undefined) return controller.close();
            controller.enqueue(chunk);
            await nextTurn(); // really streaming
          },
        })
      : reply.body;
    return new Response(body, { status: reply.status, headers });
  });
  app.onError((_error, c) => c.text('Internal Server Error', 500));
  return listen(createAdaptorServer({ fetch: app.fetch }) as Server);
});

describe('oncekey/hono after a middleware that read the body', () => {
  test('the handler reads the cached body; the retry is a replay of the first run', async () => {
    const { memoryStore } = await import('oncekey/memory');
    const app = new Hono();
    let runs = 0;
    app.use('*', async (c, next) => {
      await c.req.json(); // a validator
      await next();
    });
    app.use('*', idempotency({ store: memoryStore() }));
    app.post('/orders', async (c) => c.json({ run: ++runs, ...(await c.req.json<object>()) }, 201));
    const send = () =>
      app.request('/orders', {
        method: 'POST',
        body: '{"item":"book"}',
        headers: { 'content-type': 'application/json', 'idempotency-key': '"k1"' },
      });
    const first = await send();
    const again = await send();
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ run: 1, item: 'book' });
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual({ run: 1, item: 'book' });
    expect(runs).toBe(1);
  });
});
