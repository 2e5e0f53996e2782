import { describe, expect, expectTypeOf, it } from 'vitest';
import { isInvalidKeyError } from '../core/errors/invalid-key.js';
import { isInvalidOptionError } from '../core/errors/invalid-option.js';
import { isFingerprintMismatchError } from '../core/errors/mismatch.js';
import { tokenBucketBudget } from '../resilience/budget/token-bucket.js';
import { consecutiveBreaker } from '../resilience/breaker/consecutive.js';
import { constantBackoff } from '../resilience/backoff/constant.js';
import { FakeClock } from '../core/fake-clock.js';
import { isBrokenCircuitError } from '../resilience/errors/broken-circuit.js';
import { seededRandom } from '../core/random.js';
import { createClient, type ClientAttempt, type ClientRequestInit } from './client.js';
import { isIdempotencyKeyReusedError, isRequestBodyTooLargeError, type IdempotencyKeyReusedError } from './errors.js';
import type { ClientOptions } from './options.js';

interface Seen {
  readonly url: string;
  readonly method: string;
  readonly key: string | null;
  readonly body: string | null;
  readonly at: number;
}

type Step = (seen: Seen, signal: AbortSignal) => Response | Error | Promise<Response>;

/** A fetch that answers from a script (the last step repeats) and records every request. */
function fakeFetch(clock: FakeClock, script: Step[]) {
  const seen: Seen[] = [];
  const fetch = async (url: string, init: RequestInit): Promise<Response> => {
    const body = init.body == null ? null : await new Response(init.body).text();
    const headers = new Headers(init.headers);
    const entry = { url, method: init.method ?? 'GET', key: headers.get('idempotency-key'), body, at: clock.now() };
    seen.push(entry);
    init.signal?.throwIfAborted();
    const out = await script[Math.min(seen.length - 1, script.length - 1)]!(entry, init.signal!);
    if (out instanceof Error) throw out;
    return out;
  };
  return { fetch, seen };
}

const status =
  (code: number, headers: Record<string, string> = {}, body: string | null = null) =>
  () =>
    new Response(body, { status: code, headers });
const problem =
  (code: number, type: string, headers: Record<string, string> = {}) =>
  () =>
    new Response(JSON.stringify({ type, title: 't', status: code, detail: `${type} happened` }), {
      status: code,
      headers: { 'content-type': 'application/problem+json', ...headers },
    });
const networkError = () => () =>
  new TypeError('fetch failed', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) });
const ok = (body = 'done') => status(201, {}, body);

/** Await a call while moving fake time through every timer it sets (backoffs, Retry-After). */
async function drive<T>(clock: FakeClock, promise: Promise<T>): Promise<T> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  for (let i = 0; i < 10_000 && !done; i++) {
    const at = clock.nextTimerAt;
    if (at === undefined) await new Promise((r) => setImmediate(r));
    else await clock.advanceTo(at);
  }
  return promise;
}

function setup(script: Step[], options: ClientOptions = {}) {
  const clock = new FakeClock(1_700_000_000_000);
  const { fetch, seen } = fakeFetch(clock, script);
  const client = createClient({ fetch, clock, random: seededRandom(7), ...options });
  const call = (input: string, init?: ClientRequestInit) => drive(clock, client(input, init));
  const settle = (input: string, init?: ClientRequestInit) => call(input, init).catch((error: unknown) => error as Error);
  return { clock, client, seen, call, settle };
}

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const POST = { method: 'POST', body: JSON.stringify({ amount: 5 }), headers: { 'content-type': 'application/json' } };

describe('idempotency keys', () => {
  it('a POST gets a UUIDv7 key, and every retry sends the same key and the same body', async () => {
    const { seen, call } = setup([status(503), networkError(), ok('order 1')]);
    const response = await call('https://api.test/orders', POST);
    expect(response.status).toBe(201);
    expect(await response.text()).toBe('order 1');
    expect(seen).toHaveLength(3);
    const key = seen[0]!.key!;
    expect(key).toMatch(/^"(.*)"$/); // a Structured Field string, as the draft says
    expect(key.slice(1, -1)).toMatch(UUID_V7);
    expect(seen.map((s) => s.key)).toEqual([key, key, key]);
    expect(seen.map((s) => s.body)).toEqual(Array(3).fill('{"amount":5}'));
  });

  it('each call gets its own key; the key carries the clock time', async () => {
    const { seen, call, clock } = setup([ok()]);
    await call('https://api.test/orders', POST);
    await clock.advance(5000);
    await call('https://api.test/orders', { method: 'PATCH', body: 'x' });
    const [a, b] = seen.map((s) => s.key!.slice(1, -1));
    expect(a).not.toBe(b);
    expect(parseInt(a!.replace(/-/g, '').slice(0, 12), 16)).toBe(1_700_000_000_000);
    expect(parseInt(b!.replace(/-/g, '').slice(0, 12), 16)).toBe(1_700_000_005_000);
    expect(a! < b!).toBe(true);
  });

  it('uses a key the caller gives, as an option or a header, on every retry', async () => {
    const { seen, call } = setup([status(502), ok()]);
    await call('https://api.test/orders', { ...POST, idempotencyKey: 'order-42' });
    await call('https://api.test/orders', { method: 'POST', body: 'b', headers: { 'Idempotency-Key': 'stripe-style-7' } });
    expect(seen.map((s) => s.key)).toEqual(['"order-42"', '"order-42"', 'stripe-style-7']);
  });

  it('with idempotencyKey: false, a key header the caller set reaches the server as written (and the call is retried)', async () => {
    const { seen, call } = setup([status(503), ok()]);
    await call('https://api.test/orders', { method: 'POST', body: 'b', headers: { 'Idempotency-Key': 'bare-1' }, idempotencyKey: false });
    expect(seen.map((s) => s.key)).toEqual(['bare-1', 'bare-1']);
  });

  it('bare keys for Stripe-style servers; a key no server could read back is refused before sending', async () => {
    const { seen, call, settle } = setup([ok()], { key: { quoted: false, header: 'Stripe-Idempotency-Key' } });
    await call('https://api.test/charges', { method: 'POST', body: 'b', idempotencyKey: 'abc' });
    expect(seen).toHaveLength(1);
    const error = await settle('https://api.test/charges', { method: 'POST', body: 'b', idempotencyKey: 'two words' });
    expect(isInvalidKeyError(error)).toBe(true);
    expect(isInvalidKeyError(await settle('https://api.test/c', { method: 'POST', idempotencyKey: 'x'.repeat(256) }))).toBe(true);
    expect(seen).toHaveLength(1);
  });

  it('GET, PUT, DELETE, HEAD, OPTIONS get no key and are retried', async () => {
    for (const method of ['GET', 'PUT', 'DELETE', 'HEAD', 'OPTIONS']) {
      const { seen, call } = setup([status(503), ok()]);
      expect((await call('https://api.test/orders/1', { method })).status).toBe(201);
      expect(seen.map((s) => s.key)).toEqual([null, null]);
    }
  });
});

describe('what is retried', () => {
  it('retries network errors, 408, 429, 502, 503, 504', async () => {
    const { seen, call } = setup([networkError(), status(408), status(429), status(502), status(503), status(504), ok()], {
      retry: { maxAttempts: 10, backoff: constantBackoff(10) },
      breaker: false,
    });
    expect((await call('https://api.test/orders', POST)).status).toBe(201);
    expect(seen).toHaveLength(7);
  });

  it('does not retry 400, 404, 500 or a 422 that is not about the key: the caller gets the response', async () => {
    for (const code of [400, 404, 500]) {
      const { seen, call } = setup([status(code), ok()]);
      expect((await call('https://api.test/orders', POST)).status).toBe(code);
      expect(seen).toHaveLength(1);
    }
    const { seen, call } = setup([problem(422, 'https://api.test/problems/validation'), ok()]);
    const response = await call('https://api.test/orders', POST);
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ type: 'https://api.test/problems/validation' }); // body intact
    expect(seen).toHaveLength(1);
  });

  it('a 422 "key reused for another request" is a caller bug: a typed error with the problem document', async () => {
    const { seen, settle } = setup([problem(422, 'https://oncekey.dev/problems/fingerprint-mismatch'), ok()]);
    const error = (await settle('https://api.test/orders', { ...POST, idempotencyKey: 'reused' })) as IdempotencyKeyReusedError;
    expect(isIdempotencyKeyReusedError(error)).toBe(true);
    expect(isFingerprintMismatchError(error)).toBe(true);
    expect(error.code).toBe('FINGERPRINT_MISMATCH');
    expect(error.key).toBe('reused');
    expect(error.status).toBe(422);
    expect(error.problem).toMatchObject({ type: 'https://oncekey.dev/problems/fingerprint-mismatch' });
    expect(error.message).toMatch(/POST https:\/\/api\.test\/orders.*reused/);
    expect(seen).toHaveLength(1);
  });

  it("the draft's 409 (first request still running): waits its Retry-After, then gets the stored response", async () => {
    const { seen, call } = setup([
      problem(409, 'https://oncekey.dev/problems/key-in-use', { 'retry-after': '1' }),
      status(201, { 'idempotent-replayed': 'true' }, 'order 1'),
    ]);
    const response = await call('https://api.test/orders', POST);
    expect(response.status).toBe(201);
    expect(response.headers.get('idempotent-replayed')).toBe('true');
    expect(seen.map((s) => s.at - seen[0]!.at)).toEqual([0, 1000]);
    expect(seen[1]!.key).toBe(seen[0]!.key);
  });

  it('a problem body over 64 KiB without Content-Length is not read past the limit, nor taken as a problem', async () => {
    const total = 1024 * 1024;
    const chunk = 'x'.repeat(16 * 1024);
    let pulled = 0;
    const chunked = () => {
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          // An in-flight problem, padded: read whole, it would make the call retry.
          const text = pulled === 0 ? '{"type":"https://oncekey.dev/problems/key-in-use","pad":"' : pulled < total ? chunk : '"}';
          pulled += text.length;
          controller.enqueue(encoder.encode(text));
          if (text === '"}') controller.close();
        },
      });
      return new Response(body, { status: 409, headers: { 'content-type': 'application/problem+json' } });
    };
    const { seen, call } = setup([chunked, ok()]);
    const response = await call('https://api.test/orders', POST);
    expect(response.status).toBe(409);
    expect(seen).toHaveLength(1);
    expect(pulled).toBeLessThan(2 * 64 * 1024);
    const text = await response.text(); // the caller still gets the whole body
    expect(text.length).toBe(pulled);
    expect(pulled).toBeGreaterThan(total);
    expect(JSON.parse(text)).toMatchObject({ type: 'https://oncekey.dev/problems/key-in-use' });
  });

  it('a 409 that is not about the key (a business conflict) is not retried', async () => {
    const { seen, call } = setup([problem(409, 'https://api.test/problems/email-taken'), ok()]);
    expect((await call('https://api.test/users', POST)).status).toBe(409);
    expect(seen).toHaveLength(1);
  });

  it('honours Retry-After (seconds, HTTP-date) and retry-after-ms instead of the backoff', async () => {
    const clockStart = 1_700_000_000_000;
    const date = new Date(clockStart + 3000).toUTCString();
    const { seen, call } = setup(
      [status(503, { 'retry-after': '2' }), status(429, { 'retry-after': date }), status(503, { 'retry-after-ms': '250' }), ok()],
      {
        retry: { maxAttempts: 4 },
      },
    );
    expect((await call('https://api.test/orders', POST)).status).toBe(201);
    expect(seen.map((s) => s.at - clockStart)).toEqual([0, 2000, 3000, 3250]);
  });

  it('a Retry-After beyond maxRetryAfterMs ends the retries: the caller gets that response', async () => {
    const { seen, call } = setup([status(429, { 'retry-after': '120' }), ok()]);
    const response = await call('https://api.test/orders', POST);
    expect(response.status).toBe(429);
    expect(seen).toHaveLength(1);
  });

  it('after the last attempt the caller gets the last response, or the last network error', async () => {
    const a = setup([status(503)], { retry: { maxAttempts: 2 } });
    expect((await a.call('https://api.test/x')).status).toBe(503);
    expect(a.seen).toHaveLength(2);
    const b = setup([networkError()], { retry: { maxAttempts: 2 } });
    expect(await b.settle('https://api.test/x')).toMatchObject({ name: 'TypeError', message: 'fetch failed' });
    expect(b.seen).toHaveLength(2);
  });
});

describe('fetch implementations', () => {
  it("a Response of another class (undici's own) is retried and counted by the breaker", async () => {
    const undici = await import('undici');
    expect(new undici.Response(null) instanceof Response).toBe(false); // not the global class
    const answer = (code: number, body: string | null) => () => new undici.Response(body, { status: code }) as unknown as Response;
    const { seen, call, client } = setup([answer(503, null), answer(201, 'done')]);
    const failures: number[] = [];
    let successes = 0;
    const breaker = client.breaker('https://api.test')!;
    breaker.on('failure', (e) => failures.push((e.result as ClientAttempt).response.status));
    breaker.on('success', () => successes++);
    const response = await call('https://api.test/orders', POST);
    expect(response.status).toBe(201);
    expect(await response.text()).toBe('done');
    expect(seen).toHaveLength(2);
    expect(failures).toEqual([503]);
    expect(successes).toBe(1);
  });
});

describe('never retries a non-idempotent request without a key', () => {
  it('with keys turned off, a POST or PATCH is sent once, whatever happens; a GET is still retried', async () => {
    const { seen, call } = setup([status(503), ok()], { key: false });
    expect((await call('https://api.test/orders', POST)).status).toBe(503);
    expect(seen.map((s) => s.key)).toEqual([null]);
    const failing = setup([networkError(), ok()], { key: false });
    expect(await failing.settle('https://api.test/orders', { method: 'PATCH', body: 'x' })).toBeInstanceOf(TypeError);
    expect(failing.seen).toHaveLength(1);
    const get = setup([status(503), ok()], { key: false });
    expect((await get.call('https://api.test/orders')).status).toBe(201);
    expect(get.seen).toHaveLength(2);
  });

  it('idempotencyKey: false on one call; and methods outside key.methods (e.g. a custom one) are not retried', async () => {
    const { seen, call } = setup([status(503), ok()]);
    expect((await call('https://api.test/orders', { ...POST, idempotencyKey: false })).status).toBe(503);
    expect(seen).toHaveLength(1);
    const custom = setup([status(503), ok()]);
    expect((await custom.call('https://api.test/cache', { method: 'PURGE' })).status).toBe(503);
    expect(custom.seen).toHaveLength(1);
  });

  it('key.methods decides which methods get a key', async () => {
    const { seen, call } = setup([status(503), ok()], { key: { methods: ['POST', 'PURGE'] } });
    await call('https://api.test/cache', { method: 'PURGE' });
    expect(seen).toHaveLength(2);
    expect(seen[0]!.key).toBe(seen[1]!.key);
    expect(seen[0]!.key).not.toBeNull();
  });
});

describe('request bodies', () => {
  const streamOf = (...chunks: string[]) =>
    new ReadableStream<Uint8Array>({
      start(controller) {
        for (const c of chunks) controller.enqueue(new TextEncoder().encode(c));
        controller.close();
      },
    });

  it('a stream body is buffered once and sent whole on every retry', async () => {
    const { seen, call } = setup([networkError(), ok()]);
    await call('https://api.test/upload', { method: 'POST', body: streamOf('a', 'b', 'c'), duplex: 'half' } as ClientRequestInit);
    expect(seen.map((s) => s.body)).toEqual(['abc', 'abc']);
  });

  it('a stream over maxBodyBytes fails clearly before anything is sent; retry: false streams it through once', async () => {
    const { seen, settle, call } = setup([ok()], { maxBodyBytes: 4 });
    const error = await settle('https://api.test/upload', {
      method: 'POST',
      body: streamOf('abc', 'def'),
      duplex: 'half',
    } as ClientRequestInit);
    expect(isRequestBodyTooLargeError(error)).toBe(true);
    expect((error as Error & { code: string }).code).toBe('UNSUPPORTED_INPUT');
    expect(seen).toHaveLength(0);
    await call('https://api.test/upload', {
      method: 'POST',
      body: streamOf('abc', 'def'),
      duplex: 'half',
      retry: false,
    } as ClientRequestInit);
    expect(seen.map((s) => s.body)).toEqual(['abcdef']);
    expect(seen[0]!.key).not.toBeNull(); // still keyed: the server dedupes even if something else resends it
  });
});

describe('circuit breaker per origin', () => {
  it('opens for the failing origin only; calls to it then fail fast without a request', async () => {
    const { seen, settle, call } = setup(
      [(s) => (s.url.startsWith('https://down.test') ? new TypeError('fetch failed') : new Response('up'))],
      { breaker: { breaker: consecutiveBreaker({ threshold: 3 }), halfOpenAfterMs: 10_000 }, retry: { maxAttempts: 3 } },
    );
    expect(await settle('https://down.test/a')).toBeInstanceOf(TypeError); // 3 attempts, 3 failures: open
    expect(seen).toHaveLength(3);
    const rejected = await settle('https://down.test/b');
    expect(isBrokenCircuitError(rejected)).toBe(true);
    expect(seen).toHaveLength(3);
    expect(await (await call('https://up.test/a')).text()).toBe('up');
    expect(seen).toHaveLength(4);
  });

  it('the 409 in-flight answer and 4xx do not count against the origin; 5xx do', async () => {
    const { client, call } = setup(
      [problem(409, 'https://oncekey.dev/problems/key-in-use', { 'retry-after': '0' }), status(404), status(500)],
      { breaker: { breaker: consecutiveBreaker({ threshold: 1 }) }, retry: { maxAttempts: 2 } },
    );
    await call('https://api.test/a', POST); // 409 then 404
    expect(client.breaker('https://api.test')!.state).toBe('closed');
    await call('https://api.test/a', POST); // 500
    expect(client.breaker('https://api.test')!.state).toBe('open');
  });

  it('keeps the breakers of the 1000 most recently used origins', async () => {
    const { client, call } = setup([ok()], { retry: false });
    const host0 = client.breaker('https://host-0.test')!;
    const host1 = client.breaker('https://host-1.test')!;
    expect(client.breaker('https://host-0.test')).toBe(host0);
    for (let i = 2; i <= 500; i++) await call(`https://host-${i}.test/`);
    await call('https://host-0.test/'); // used again: now more recent than host-1
    for (let i = 501; i <= 1000; i++) await call(`https://host-${i}.test/`); // 1001 origins: the least recent goes
    expect(client.breaker('https://host-0.test')).toBe(host0);
    expect(client.breaker('https://host-1.test')).not.toBe(host1); // dropped, made anew
  });

  it('checks breaker.store at construction: a store, or a function of the origin', () => {
    for (const store of [{}, 5]) {
      let error: unknown;
      try {
        createClient({ breaker: { store: store as never } });
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error), JSON.stringify(store)).toBe(true);
      expect((error as Error).message).toMatch(/createClient\.breaker\.store/);
    }
  });

  it('breaker: false turns it off; a store factory gives each origin its own state', async () => {
    const off = setup([networkError()], { breaker: false, retry: false });
    for (let i = 0; i < 10; i++) await off.settle('https://down.test/');
    expect(off.seen).toHaveLength(10);
    expect(off.client.breaker('https://down.test')).toBeUndefined();

    const origins: string[] = [];
    const { MemoryBreakerStateStore } = await import('../resilience/breaker/state-store.js');
    const perOrigin = setup([ok()], { breaker: { store: (origin) => (origins.push(origin), new MemoryBreakerStateStore()) } });
    await perOrigin.call('https://a.test/x');
    await perOrigin.call('https://b.test:8443/y');
    await perOrigin.call('https://a.test/z');
    expect(origins).toEqual(['https://a.test', 'https://b.test:8443']);
  });
});

describe('the caller’s signal and deadlines', () => {
  it('an abort during the backoff ends the call at once: no further attempt, no timer left', async () => {
    const { seen, client, clock } = setup([status(503, { 'retry-after': '30' }), ok()]);
    const controller = new AbortController();
    const pending = client('https://api.test/orders', { ...POST, signal: controller.signal }).catch((e: unknown) => e);
    for (let i = 0; i < 20 && clock.pendingTimers === 0; i++) await new Promise((r) => setImmediate(r));
    expect(clock.pendingTimers).toBe(1); // sleeping for the Retry-After
    controller.abort(new Error('user navigated away'));
    expect(await pending).toMatchObject({ message: 'user navigated away' });
    expect(clock.pendingTimers).toBe(0);
    await clock.runAll();
    expect(seen).toHaveLength(1);
  });

  it('an abort during an attempt ends the call without a retry', async () => {
    const controller = new AbortController();
    const { seen, settle } = setup([
      (_s, signal) =>
        new Promise<Response>((_, reject) => {
          signal.addEventListener('abort', () => reject(signal.reason));
          controller.abort(new Error('cancelled'));
        }),
      ok(),
    ]);
    expect(await settle('https://api.test/orders', { ...POST, signal: controller.signal })).toMatchObject({ message: 'cancelled' });
    expect(seen).toHaveLength(1);
  });

  it('attemptTimeoutMs aborts a hanging attempt and retries it with the same key', async () => {
    const { seen, call } = setup(
      [(_s, signal) => new Promise<Response>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))), ok()],
      { attemptTimeoutMs: 2000, retry: { backoff: constantBackoff(100) } },
    );
    expect((await call('https://api.test/orders', POST)).status).toBe(201);
    expect(seen.map((s) => s.at - seen[0]!.at)).toEqual([0, 2100]);
    expect(seen[1]!.key).toBe(seen[0]!.key);
  });

  it('maxDurationMs bounds a whole call, waits included', async () => {
    const { seen, call } = setup([status(503, { 'retry-after': '5' }), ok()], { retry: { maxDurationMs: 3000 } });
    expect((await call('https://api.test/orders', POST)).status).toBe(503); // the wait would end past the deadline
    expect(seen).toHaveLength(1);
  });
});

describe('budget and options', () => {
  it('a shared retry budget stops retries once most attempts fail', async () => {
    const budget = tokenBucketBudget({ maxTokens: 4, tokenRatio: 0.1 });
    const { seen, call } = setup([status(503)], { budget, breaker: false, retry: { maxAttempts: 5, backoff: constantBackoff(1) } });
    await call('https://api.test/x'); // 503: tokens 4 → 3 → 2 (no longer > 2): 2 attempts
    expect(seen).toHaveLength(2);
    await call('https://api.test/x'); // no retry at all
    expect(seen).toHaveLength(3);
  });

  it('resolves relative URLs against baseUrl with exactly one slash', async () => {
    const { seen, call } = setup([ok()], { baseUrl: 'https://api.test/v1/' });
    await call('/orders');
    await call('orders/7?x=1');
    await call('https://other.test/abs');
    expect(seen.map((s) => s.url)).toEqual(['https://api.test/v1/orders', 'https://api.test/v1/orders/7?x=1', 'https://other.test/abs']);
    const noBase = setup([ok()]);
    expect(isInvalidOptionError(await noBase.settle('/orders'))).toBe(true);
  });

  it('accepts a Request as input, with its key header and body', async () => {
    const { seen, client, clock } = setup([status(503), ok()]);
    const request = new Request('https://api.test/orders', { method: 'POST', body: 'r', headers: { 'Idempotency-Key': '"from-request"' } });
    await drive(clock, client(request));
    expect(seen.map((s) => [s.key, s.body])).toEqual([
      ['"from-request"', 'r'],
      ['"from-request"', 'r'],
    ]);
  });

  it('can stand in for fetch wherever a fetch is expected', async () => {
    const { seen, client, clock } = setup([ok('via fetch')]);
    expectTypeOf(client).toExtend<typeof globalThis.fetch>();
    const post = (fetchImpl: typeof globalThis.fetch) => fetchImpl('https://api.test/orders', { method: 'POST', body: 'b' });
    const response = await drive(clock, post(client));
    expect(await response.text()).toBe('via fetch');
    expect(seen[0]!.key).toMatch(/^"/); // it went through the client, which added a key
  });

  it('rejects unknown options and bad values at construction', () => {
    const bad: unknown[] = [
      { retries: 3 },
      { retry: { attempts: 3 } },
      { retry: { maxAttempts: 0 } },
      { baseUrl: 'ftp://x' },
      { baseUrl: 'not a url' },
      { key: { methods: ['PO ST'] } },
      { key: { header: 'Idempotency Key' } },
      { key: { quoted: 'yes' } },
      { breaker: { clock: new FakeClock() } },
      { breaker: { halfOpenTrials: 0 } },
      { maxBodyBytes: -1 },
      { attemptTimeoutMs: 0 },
      { fetch: 'fetch' },
      { budget: {} },
    ];
    for (const options of bad) {
      let error: unknown;
      try {
        createClient(options as ClientOptions);
      } catch (e) {
        error = e;
      }
      expect(isInvalidOptionError(error), JSON.stringify(options)).toBe(true);
    }
  });
});
