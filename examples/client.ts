import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { createClient } from 'oncekey/client';
import { idempotency } from 'oncekey/hono';
import { memoryStore } from 'oncekey/memory';

// A small orders API: each Idempotency-Key runs once, and its response is replayed to retries.
const orders: { id: string; item: string }[] = [];
const app = new Hono();
app.use('/orders', idempotency({ store: memoryStore() }));
app.post('/orders', async (c) => {
  const { item } = await c.req.json<{ item: string }>();
  const order = { id: `order-${orders.length + 1}`, item };
  orders.push(order);
  return c.json(order, 201);
});
const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
await new Promise((resolve) => server.once('listening', resolve));
const { port } = server.address() as AddressInfo;

// A network that loses the first answer after the server did the work (a reset, a timeout).
let answersToLose = 1;
async function flakyFetch(url: string, init: RequestInit): Promise<Response> {
  const response = await fetch(url, init);
  if (answersToLose-- > 0) {
    await response.arrayBuffer();
    throw new TypeError('fetch failed: the answer was lost');
  }
  return response;
}

// The client gives the POST one Idempotency-Key and sends the same key when it retries.
const api = createClient({ baseUrl: `http://127.0.0.1:${port}`, fetch: flakyFetch });
api.on('retry', (event) => console.log(`retrying: ${(event.error as Error).message}`));

const response = await api('/orders', {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ item: 'tea' }),
});
console.log(response.status, response.headers.get('idempotent-replayed'), await response.json());
console.log(`orders created: ${orders.length}`);
server.close();
