import { Hono } from 'hono';
import { createAdaptorServer } from '@hono/node-server';
import type { Server } from 'node:http';
import { idempotency } from '../../src/http/hono.js';
import { runHttpBehaviour } from './behaviour.js';
import { listen } from './listen.js';

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
    const body = reply.chunks
      ? new ReadableStream<Uint8Array>({
          start(controller) {
            for (const chunk of reply.chunks!) controller.enqueue(chunk);
            controller.close();
          },
        })
      : reply.body;
    return new Response(body, { status: reply.status, headers });
  });
  app.onError((_error, c) => c.text('Internal Server Error', 500));
  return listen(createAdaptorServer({ fetch: app.fetch }) as Server);
});
