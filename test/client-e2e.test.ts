/**
 * The client and the middleware, end to end over real HTTP: a Hono app with `oncekey/hono` on a
 * free port, a fault proxy between it and the client that loses answers. The server does the work,
 * the answer is lost, the client retries with the same key and gets the first outcome back: the
 * work ran once, and the caller got the first result.
 */
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, isIdempotencyKeyReusedError, type ClientAttempt } from 'oncekey/client';
import { idempotency } from 'oncekey/hono';
import { memoryStore } from 'oncekey/memory';
import { constantBackoff } from 'oncekey/resilience';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.js';

interface Order {
  id: string;
  item: string;
  quantity: number;
  createdAt: number;
}

/** An orders API behind the idempotency middleware; `gate` holds each order until the test opens it. */
async function startOrdersApp() {
  const created: Order[] = [];
  let gate: Promise<void> = Promise.resolve();
  let openGate: () => void = () => {};
  let onStart: () => void = () => {};
  const app = new Hono();
  app.use('/orders', idempotency({ store: memoryStore() }));
  app.post('/orders', async (c) => {
    const input = await c.req.json<{ item: string; quantity: number }>();
    onStart();
    await gate;
    // Every execution makes a distinguishable order, so "the first result" is checkable.
    const order = { id: `order-${created.length + 1}`, ...input, createdAt: Date.now() };
    created.push(order);
    return c.json(order, 201);
  });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    created,
    /** Hold orders until the returned function is called; resolves `started` when one begins. */
    hold() {
      gate = new Promise((r) => (openGate = r));
      const started = new Promise<void>((r) => (onStart = r));
      return { open: () => openGate(), started };
    },
    close: () =>
      new Promise<void>((resolve) => {
        openGate(); // a failed test must not leave a handler waiting forever
        server.close(() => resolve());
        (server as { closeAllConnections?: () => void }).closeAllConnections?.();
      }),
  };
}

describe('client + oncekey middleware through a proxy that loses answers', () => {
  let cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of cleanup.reverse()) await close();
    cleanup = [];
  });
  async function bed() {
    const app = await startOrdersApp();
    const proxy: FaultProxy = await startFaultProxy(app.url);
    cleanup.push(proxy.close, app.close); // the app first: it frees held handlers the proxy waits on
    return { app, proxy };
  }
  const order = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ item: 'tea', quantity: 2 }) };

  it('the server did the work but the answer was lost twice: the third attempt gets the first result, replayed', async () => {
    const { app, proxy } = await bed();
    proxy.drop(2, { mode: 'afterResponse' });
    const client = createClient({ baseUrl: proxy.url, retry: { maxAttempts: 4, backoff: constantBackoff(20) } });
    const errors: unknown[] = [];
    client.on('retry', (e) => errors.push(e.error));

    const response = await client('/orders', order);

    expect(app.created).toHaveLength(1); // the work happened exactly once
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    const body = (await response.json()) as Order;
    expect(body).toEqual(app.created[0]); // the first (and only) result
    expect(body.id).toBe('order-1');

    // What happened on the wire: three requests with one key; the first two answers were lost.
    expect(proxy.requests.map((r) => r.dropped)).toEqual([true, true, false]);
    const keys = proxy.requests.map((r) => r.headers['idempotency-key']);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toMatch(/^"[0-9a-f-]{36}"$/);
    expect(proxy.requests.map((r) => r.body)).toEqual(Array(3).fill(order.body));
    expect(proxy.requests[0]!.response).toMatchObject({ status: 201, body: JSON.stringify(app.created[0]) });
    expect(proxy.requests[0]!.response!.headers['idempotent-replayed']).toBeUndefined(); // it ran there
    expect(proxy.requests[1]!.response!.headers['idempotent-replayed']).toBe('true');
    expect(errors).toHaveLength(2);
    expect(errors.every((e) => e instanceof TypeError)).toBe(true); // what fetch reports for a reset connection
  });

  it('the answer is lost while the server still works: the retry gets 409, waits its Retry-After, then the first result', async () => {
    const { app, proxy } = await bed();
    const held = app.hold();
    proxy.drop(1, { mode: 'whileRunning', until: () => held.started });
    // A bound on the whole call, so a regression fails the test instead of hanging it.
    const client = createClient({ baseUrl: proxy.url, retry: { maxAttempts: 6, backoff: constantBackoff(20), maxDurationMs: 15_000 } });
    const seen: Array<number | string> = [];
    client.on('retry', (e) => {
      const attempt = e.result as ClientAttempt | undefined;
      seen.push(attempt ? attempt.response.status : (e.error as Error).name);
      if (attempt?.response.status === 409) held.open(); // the first request may finish now
    });

    const response = await client('/orders', order);

    expect(app.created).toHaveLength(1);
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect(await response.json()).toEqual(app.created[0]);
    expect(seen.slice(0, 2)).toEqual(['TypeError', 409]);
    expect(new Set(proxy.requests.map((r) => r.headers['idempotency-key'])).size).toBe(1);
  });

  it('without a key the client does not retry a POST: the caller gets the error, and the work ran once', async () => {
    const { app, proxy } = await bed();
    proxy.drop(1, { mode: 'afterResponse' });
    const client = createClient({ baseUrl: proxy.url, key: false, retry: { backoff: constantBackoff(20) } });
    await expect(client('/orders', order)).rejects.toBeInstanceOf(TypeError);
    expect(proxy.requests).toHaveLength(1);
    expect(proxy.requests[0]!.headers['idempotency-key']).toBeUndefined();
    expect(app.created).toHaveLength(1);
  });

  it('reusing a key for a different order is a caller bug: IdempotencyKeyReusedError, nothing runs again', async () => {
    const { app, proxy } = await bed();
    const client = createClient({ baseUrl: proxy.url });
    expect((await client('/orders', { ...order, idempotencyKey: 'order-form-17' })).status).toBe(201);
    const error = await client('/orders', {
      ...order,
      body: JSON.stringify({ item: 'coffee', quantity: 1 }),
      idempotencyKey: 'order-form-17',
    }).catch((e: unknown) => e);
    expect(isIdempotencyKeyReusedError(error)).toBe(true);
    expect((error as { problem: { type: string } }).problem.type).toBe('https://oncekey.dev/problems/fingerprint-mismatch');
    expect(app.created).toHaveLength(1);
    expect(proxy.requests).toHaveLength(2); // not retried
  });
});
