import { describe, expect, test } from 'vitest';
import { Oncekey } from '../engine/oncekey.js';
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { StoreUnavailableError } from '../core/errors/store-unavailable.js';
import { memoryStore } from '../store/memory.js';
import type { Store } from '../store/contract.js';
import { idempotency } from './middleware.js';
import type { ErrorContext } from './options.js';

const post = (key: string, body = '{}', headers: Record<string, string> = {}): Request =>
  new Request('http://api.test/orders', {
    method: 'POST',
    body,
    headers: { 'idempotency-key': key, 'content-type': 'application/json', ...headers },
  });

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A response body the test feeds by hand. */
function manualBody(): { stream: ReadableStream<Uint8Array>; push(s: string): void; end(): void; fail(e: Error): void } {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  const stream = new ReadableStream<Uint8Array>({ start: (c) => void (controller = c) });
  return { stream, push: (s) => controller.enqueue(bytes(s)), end: () => controller.close(), fail: (e) => controller.error(e) };
}

const tick = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  while (!(await condition())) await tick();
}

describe('idempotency middleware (core)', () => {
  test('a caller that leaves mid-body does not lose the outcome: the rest is read and stored for the retry', async () => {
    const store = memoryStore();
    const handle = idempotency({ store });
    const body = manualBody();
    let runs = 0;
    const first = await handle(post('k'), async () => {
      runs++;
      return new Response(body.stream, { status: 200, headers: { 'content-type': 'text/plain' } });
    });
    body.push('part one, ');
    const reader = first.body!.getReader();
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('part one, ');
    void reader.cancel(); // the client disconnects
    body.push('part two');
    body.end();
    await until(async () => (await store.get({ scope: 'anonymous', key: 'k' }))?.state === 'completed');
    const retry = await handle(post('k'), async () => {
      runs++;
      return new Response('second run');
    });
    expect(runs).toBe(1);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(await retry.text()).toBe('part one, part two');
  });

  test('the first caller sees the end of the body only after the outcome is stored', async () => {
    const store = memoryStore();
    const handle = idempotency({ store });
    const response = await handle(post('k'), async () => new Response('done', { status: 201 }));
    expect(await response.text()).toBe('done');
    expect((await store.get({ scope: 'anonymous', key: 'k' }))?.state).toBe('completed');
  });

  test("a body stream that breaks releases the key and breaks the first caller's stream too", async () => {
    const store = memoryStore();
    const handle = idempotency({ store });
    const body = manualBody();
    const first = await handle(post('k'), async () => new Response(body.stream, { status: 200 }));
    body.push('partial');
    body.fail(new Error('upstream reset'));
    await expect(first.text()).rejects.toThrow('upstream reset');
    expect(await store.get({ scope: 'anonymous', key: 'k' })).toBeUndefined();
    const retry = await handle(post('k'), async () => new Response('second run', { status: 201 }));
    expect(await retry.text()).toBe('second run');
  });

  test('past maxResponseBody the outcome is settled at once: a retry during the stream gets the 410, not a 409', async () => {
    const store = memoryStore();
    const handle = idempotency({ store, maxResponseBody: 10 });
    const body = manualBody();
    let runs = 0;
    const first = await handle(post('k'), async () => {
      runs++;
      return new Response(body.stream, { status: 200 });
    });
    body.push('0123456789ABC'); // over the limit
    await until(async () => (await store.get({ scope: 'anonymous', key: 'k' }))?.state === 'completed');
    const retry = await handle(post('k'), async () => {
      runs++;
      return new Response('x');
    });
    expect(retry.status).toBe(410);
    expect(await retry.json()).toMatchObject({ type: 'https://oncekey.dev/problems/response-too-large', originalStatus: 200, limit: 10 });
    body.push('DEF');
    body.end();
    expect(await first.text()).toBe('0123456789ABCDEF'); // the first caller gets it whole
    expect(runs).toBe(1);
  });

  test('a request with an empty (but non-null) body stream reaches the handler, with an empty body, and is stored', async () => {
    const store = memoryStore();
    const handle = idempotency({ store });
    const empty = (): Request =>
      new Request('http://api.test/orders', {
        method: 'POST',
        headers: { 'idempotency-key': 'k' },
        body: new ReadableStream<Uint8Array>({ start: (c) => c.close() }),
        duplex: 'half',
      } as RequestInit);
    const seen: string[] = [];
    const first = await handle(empty(), async (request) => {
      seen.push(await request.text());
      return new Response('created', { status: 201 });
    });
    expect(first.status).toBe(201);
    expect(await first.text()).toBe('created');
    const again = await handle(empty(), async () => new Response('ran again', { status: 201 }));
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.text()).toBe('created');
    expect(seen).toEqual(['']);
  });

  test('a response without a body (204) is stored and replayed', async () => {
    const handle = idempotency({ store: memoryStore() });
    const first = await handle(post('k'), async () => new Response(null, { status: 204, headers: { etag: '"v1"' } }));
    const again = await handle(post('k'), async () => new Response('ran again', { status: 200 }));
    expect(first.status).toBe(204);
    expect(again.status).toBe(204);
    expect(again.headers.get('etag')).toBe('"v1"');
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toBeNull();
  });

  test('when the store fails after the handler ran, the caller still gets the response and onError hears of it', async () => {
    const inner = memoryStore();
    let down = false;
    const store: Store = {
      ...inner,
      name: 'flaky',
      commit: (...args) => (down ? Promise.reject(new StoreUnavailableError('flaky', 'gone')) : inner.commit(...args)),
    };
    const errors: ErrorContext[] = [];
    const handle = idempotency({ store, onError: (_e, context) => errors.push(context) });
    const response = await handle(post('k'), async () => {
      down = true;
      return new Response('charged', { status: 201 });
    });
    expect(response.status).toBe(201);
    expect(await response.text()).toBe('charged');
    expect(errors).toEqual([{ during: 'commit', ref: { scope: 'anonymous', key: 'k' } }]);
  });

  test('a thrown handler error reaches the caller of the middleware and releases the key', async () => {
    const store = memoryStore();
    const handle = idempotency({ store });
    await expect(
      handle(post('k'), async () => {
        throw new Error('db down');
      }),
    ).rejects.toThrow('db down');
    expect(await store.get({ scope: 'anonymous', key: 'k' })).toBeUndefined();
  });

  test("onInProgress 'wait' gives up with a 409 after waitTimeout", async () => {
    const handle = idempotency({ store: memoryStore(), onInProgress: 'wait', waitTimeout: 30 });
    let release!: () => void;
    const first = handle(post('k'), () => new Promise((resolve) => (release = () => resolve(new Response('ok', { status: 201 })))));
    await until(() => release !== undefined);
    const second = await handle(post('k'), async () => new Response('ran twice'));
    expect(second.status).toBe(409);
    release();
    expect((await first).status).toBe(201);
  });

  test('storeStatus decides what is replayed', async () => {
    const handle = idempotency({ store: memoryStore(), storeStatus: (status) => status < 600 });
    await handle(post('k'), async () => new Response('broken', { status: 502 }));
    const again = await handle(post('k'), async () => new Response('fixed', { status: 200 }));
    expect(again.status).toBe(502);
    expect(await again.text()).toBe('broken');
  });

  test('a 429 from the handler is not stored by default: the request did not take effect', async () => {
    const handle = idempotency({ store: memoryStore() });
    await handle(post('k'), async () => new Response('slow down', { status: 429 }));
    const again = await handle(post('k'), async () => new Response('ok', { status: 201 }));
    expect(again.status).toBe(201);
  });

  test('records are scoped by principal; the default keeps only a hash of Authorization', async () => {
    const store = memoryStore();
    const handle = idempotency({ store });
    await handle(post('k', '{}', { authorization: 'Bearer secret-token' }), async () => new Response('ok', { status: 201 }));
    const page = await store.list({ scope: 'anonymous' });
    expect(page.records).toHaveLength(0);
    const byTenant = idempotency({ store, scope: (request) => request.headers.get('x-tenant') ?? 'none' });
    await byTenant(post('k', '{}', { 'x-tenant': 'acme' }), async () => new Response('ok', { status: 201 }));
    expect((await store.get({ scope: 'acme', key: 'k' }))?.state).toBe('completed');
  });

  test('works with an engine as well as a store; ttl and lease apply per call', async () => {
    const store = memoryStore();
    const oncekey = new Oncekey({ store, ttl: '1h', lease: '10s' });
    const handle = idempotency({ oncekey, ttl: '2h' });
    const before = Date.now();
    await handle(post('k'), async () => new Response('ok', { status: 201 }));
    const record = await store.get({ scope: 'anonymous', key: 'k' });
    expect(record!.expiresAt - before).toBeGreaterThan(60 * 60 * 1000 * 1.5);
  });

  test('options are validated at construction', () => {
    const store = memoryStore();
    expect(() => idempotency({ store, ttll: '1h' } as never)).toThrow(InvalidOptionError);
    expect(() => idempotency({} as never)).toThrow(InvalidOptionError);
    expect(() => idempotency({ store, oncekey: new Oncekey({ store, ttl: '1h', lease: '1s' }) })).toThrow(InvalidOptionError);
    expect(() => idempotency({ store, replayHeaders: ['content-type', 'Set-Cookie'] })).toThrow(/never replayed/);
    expect(() => idempotency({ store, replayHeaders: ['authorization'] })).toThrow(InvalidOptionError);
    expect(() => idempotency({ store, maxRequestBody: 0 })).toThrow(InvalidOptionError);
    expect(() => idempotency({ store, onInProgress: 'queue' as never })).toThrow(InvalidOptionError);
    expect(() => idempotency({ store, waitTimeout: '1s' })).toThrow(InvalidOptionError);
    expect(() => idempotency({ store, methods: ['POST', 'not a method'] })).toThrow(InvalidOptionError);
    expect(() => idempotency({ store, fingerprint: { ignoreFields: 'ts' as never } })).toThrow(InvalidOptionError);
  });
});
