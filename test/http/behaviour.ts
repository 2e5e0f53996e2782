/**
 * The HTTP behaviour suite: the DESIGN.md table, over real HTTP, against any adapter. Each
 * adapter's test calls `runHttpBehaviour(name, startServer)`; `startServer` builds a real server
 * on a free port that runs the given handler behind the adapter with the given options.
 *
 * Every test asserts what callers got and how many times the handler really ran.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { Agent, request } from 'undici';
import { memoryStore } from '../../src/store/memory.js';
import { sqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/contract.js';
import type { IdempotencyOptions, OutcomeEvent } from '../../src/http/options.js';
import { TestApp, type TestHandler } from './app.js';
import { type SwitchableStore, switchableStore } from './switchable-store.js';

export interface ServerSetup {
  readonly handler: TestHandler;
  readonly options: IdempotencyOptions;
}

export interface StartedServer {
  /** Base URL without a trailing slash, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  close(): Promise<void>;
}

export type StartServer = (setup: ServerSetup) => Promise<StartedServer>;

interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
  readonly problem?: { type: string; status: number; title: string; detail: string; [k: string]: unknown };
}

const PROBLEM = 'https://oncekey.dev/problems/';

export interface BehaviourOptions {
  /** Which stores to run on; default both. */
  readonly stores?: readonly ('memoryStore' | 'sqliteStore')[];
}

export function runHttpBehaviour(name: string, startServer: StartServer, options: BehaviourOptions = {}): void {
  const dir = mkdtempSync(join(tmpdir(), 'oncekey-http-'));
  let dbs = 0;
  const stores: { name: string; make: () => Store }[] = [
    { name: 'memoryStore', make: () => memoryStore() },
    { name: 'sqliteStore', make: () => sqliteStore({ path: join(dir, `${dbs++}.db`) }) },
  ];
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const kind of stores.filter((s) => options.stores?.includes(s.name as 'memoryStore') ?? true)) {
    describe(`${name} on ${kind.name}`, () => {
      let agent: Agent;
      const cleanups: (() => Promise<void> | void)[] = [];
      beforeAll(() => {
        agent = new Agent({ connections: 64 });
      });
      afterAll(() => agent.close());
      afterEach(async () => {
        for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      });

      async function setup(options: Partial<IdempotencyOptions> = {}) {
        const app = new TestApp();
        const store: SwitchableStore = switchableStore(kind.make());
        const events: OutcomeEvent[] = [];
        const server = await startServer({
          handler: app.handler,
          options: { store, onOutcome: (e) => events.push(e), ...options },
        });
        cleanups.push(
          () => store.close(),
          () => server.close(),
        );

        async function send(
          path: string,
          init: {
            method?: string;
            key?: string | null;
            body?: string | Uint8Array;
            headers?: Record<string, string>;
          } = {},
        ): Promise<Reply> {
          const method = init.method ?? 'POST';
          const headers: Record<string, string> = { ...init.headers };
          if (init.key !== null && init.key !== undefined) headers['idempotency-key'] = init.key;
          if (init.body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
          const response = await request(`${server.url}${path}`, {
            method: method as 'POST',
            headers,
            body: init.body ?? null,
            dispatcher: agent,
          });
          const body = Buffer.from(await response.body.arrayBuffer());
          const replyHeaders = new Headers();
          for (const [name, value] of Object.entries(response.headers)) {
            for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) replyHeaders.append(name, v);
          }
          const reply: Reply = { status: response.statusCode, headers: replyHeaders, body };
          if (replyHeaders.get('content-type') === 'application/problem+json') {
            return { ...reply, problem: JSON.parse(body.toString('utf8')) as Reply['problem'] };
          }
          return reply;
        }
        return { app, store, events, send, server };
      }

      test('a retry gets the first response back, byte for byte, marked Idempotent-Replayed, without Set-Cookie', async () => {
        const { app, send } = await setup();
        const first = await send('/orders', { key: '"order-1"', body: '{"item":"book","qty":1}' });
        expect(first.status).toBe(201);
        expect(first.headers.get('set-cookie')).toBe('session=s1; HttpOnly');
        expect(first.headers.get('idempotent-replayed')).toBeNull();

        const again = await send('/orders', { key: '"order-1"', body: '{"item":"book","qty":1}' });
        expect(app.runsFor('"order-1"')).toBe(1);
        expect(again.status).toBe(201);
        expect(again.body.equals(first.body)).toBe(true);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.headers.get('content-type')).toMatch(/^application\/json/);
        expect(again.headers.get('content-type')).toBe(first.headers.get('content-type'));
        expect(again.headers.get('location')).toBe(first.headers.get('location'));
        expect(again.headers.get('set-cookie')).toBeNull();
        expect(again.headers.get('x-execution')).toBeNull(); // not on the replay allow-list
      });

      test('a binary body is replayed byte for byte', async () => {
        const { app, send } = await setup();
        const first = await send('/binary', { key: 'bin-1', body: '{}' });
        const again = await send('/binary', { key: 'bin-1', body: '{}' });
        expect(app.total).toBe(1);
        expect(first.body.byteLength).toBe(70_000);
        expect(again.body.equals(first.body)).toBe(true);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
      });

      test('a streamed response is replayed byte for byte', async () => {
        const { app, send } = await setup();
        const first = await send('/stream', { key: 'stream-1', body: '{}' });
        const again = await send('/stream', { key: 'stream-1', body: '{}' });
        expect(app.total).toBe(1);
        expect(first.body.toString()).toContain('chunk 19 of execution 1\n');
        expect(again.body.equals(first.body)).toBe(true);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
      });

      test('the handler receives the exact body the middleware read', async () => {
        const { send } = await setup();
        const body = Buffer.from(Array.from({ length: 50_000 }, (_, i) => i & 255));
        const reply = await send('/echo', { key: 'echo-1', body, headers: { 'content-type': 'application/octet-stream' } });
        expect(reply.status).toBe(200);
        expect(reply.body.equals(body)).toBe(true);
      });

      test('while the first request runs, a duplicate gets 409 problem+json with Retry-After; afterwards the replay', async () => {
        const { app, send } = await setup();
        const first = send('/slow', { key: 'slow-1', body: '{}' });
        await app.entered;
        const duplicate = await send('/slow', { key: 'slow-1', body: '{}' });
        expect(duplicate.status).toBe(409);
        expect(duplicate.headers.get('content-type')).toBe('application/problem+json');
        expect(duplicate.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(duplicate.problem).toMatchObject({ type: `${PROBLEM}key-in-use`, status: 409 });
        app.open();
        const original = await first;
        expect(original.status).toBe(201);
        const later = await send('/slow', { key: 'slow-1', body: '{}' });
        expect(later.headers.get('idempotent-replayed')).toBe('true');
        expect(later.body.equals(original.body)).toBe(true);
        expect(app.total).toBe(1);
      });

      test('a client that gives up while the handler works causes no second execution: its retry gets the replay', async () => {
        const { app, send, server } = await setup();
        const controller = new AbortController();
        const abandoned = request(`${server.url}/slow`, {
          method: 'POST',
          headers: { 'idempotency-key': 'gone-1', 'content-type': 'application/json' },
          body: '{}',
          dispatcher: agent,
          signal: controller.signal,
        }).then(
          () => 'answered',
          () => 'aborted',
        );
        await app.entered;
        controller.abort();
        expect(await abandoned).toBe('aborted');
        // Give the server time to notice the disconnect first (the outcome must not depend on it).
        await new Promise((r) => setTimeout(r, 50));
        app.open();
        let retry = await send('/slow', { key: 'gone-1', body: '{}' });
        while (retry.status === 409) {
          await new Promise((r) => setTimeout(r, 10));
          retry = await send('/slow', { key: 'gone-1', body: '{}' });
        }
        expect(retry.status).toBe(201);
        expect(retry.headers.get('idempotent-replayed')).toBe('true');
        expect(JSON.parse(retry.body.toString())).toEqual({ order: 1, slow: true });
        expect(app.total).toBe(1);
      });

      test("with onInProgress: 'wait', a duplicate waits for the first response and gets its replay", async () => {
        let waiting!: () => void;
        const duplicateWaits = new Promise<void>((resolve) => (waiting = resolve));
        const { app, send } = await setup({
          onInProgress: 'wait',
          waitTimeout: '20s',
          hooks: { onInProgress: (event) => event.action === 'wait' && waiting() },
        });
        const first = send('/slow', { key: 'wait-1', body: '{}' });
        await app.entered;
        const duplicate = send('/slow', { key: 'wait-1', body: '{}' });
        await duplicateWaits;
        app.open();
        const [a, b] = await Promise.all([first, duplicate]);
        expect(app.total).toBe(1);
        expect(a.status).toBe(201);
        expect(b.status).toBe(201);
        expect(b.body.equals(a.body)).toBe(true);
        expect(b.headers.get('idempotent-replayed')).toBe('true');
      });

      test('the same key with a different body, path or method is a 422 and nothing runs', async () => {
        const { app, send } = await setup({ methods: ['POST', 'PATCH'] });
        await send('/orders', { key: 'mm-1', body: '{"qty":1}' });
        const otherBody = await send('/orders', { key: 'mm-1', body: '{"qty":2}' });
        const otherPath = await send('/invalid', { key: 'mm-1', body: '{"qty":1}' });
        const otherMethod = await send('/orders', { method: 'PATCH', key: 'mm-1', body: '{"qty":1}' });
        for (const reply of [otherBody, otherPath, otherMethod]) {
          expect(reply.status).toBe(422);
          expect(reply.problem).toMatchObject({ type: `${PROBLEM}fingerprint-mismatch`, status: 422 });
        }
        expect(app.total).toBe(1);
      });

      test('JSON bodies count by meaning: key order and spacing do not matter; ignored fields do not count', async () => {
        const { app, send } = await setup({ fingerprint: { ignoreFields: ['sentAt'] } });
        const first = await send('/orders', { key: 'json-1', body: '{"a":1,"b":[1,2],"sentAt":"10:00"}' });
        const again = await send('/orders', { key: 'json-1', body: '{ "b": [1, 2], "sentAt": "10:05", "a": 1.0 }' });
        expect(app.total).toBe(1);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.body.equals(first.body)).toBe(true);
      });

      test('a missing key is a 400 when required, and passes through (runs every time) when not', async () => {
        const required = await setup({ required: true });
        const missing = await required.send('/orders', { body: '{}' });
        expect(missing.status).toBe(400);
        expect(missing.problem).toMatchObject({ type: `${PROBLEM}key-required`, status: 400 });
        expect(required.app.total).toBe(0);

        const optional = await setup();
        await optional.send('/orders', { body: '{}' });
        const second = await optional.send('/orders', { body: '{}' });
        expect(optional.app.total).toBe(2);
        expect(second.headers.get('idempotent-replayed')).toBeNull();
      });

      test('malformed and over-long keys are a 400 and nothing runs', async () => {
        const { app, send } = await setup();
        const bad = [
          `"${'k'.repeat(256)}"`, // too long
          'k'.repeat(256), // too long, bare
          '"unterminated',
          '"a", "b"', // two keys
          'has space',
          '""',
        ];
        for (const key of bad) {
          const reply = await send('/orders', { key, body: '{}' });
          expect(reply.status, key).toBe(400);
          expect(reply.problem, key).toMatchObject({ type: `${PROBLEM}key-malformed`, status: 400 });
        }
        expect(app.total).toBe(0);
        const longest = await send('/orders', { key: `"${'k'.repeat(255)}"`, body: '{}' });
        expect(longest.status).toBe(201);
      });

      test('a bare key and the same key as a Structured Field string are one key; bare keys can be refused', async () => {
        const { app, send } = await setup();
        await send('/orders', { key: 'same-key', body: '{}' });
        const quoted = await send('/orders', { key: '"same-key"', body: '{}' });
        expect(quoted.headers.get('idempotent-replayed')).toBe('true');
        expect(app.total).toBe(1);

        const strict = await setup({ acceptBareKey: false });
        const bare = await strict.send('/orders', { key: 'bare', body: '{}' });
        expect(bare.status).toBe(400);
        expect(strict.app.total).toBe(0);
      });

      test('store unreachable: 503 problem and nothing runs (fail closed); failOpen runs unprotected and says so', async () => {
        const closed = await setup();
        closed.store.down = true;
        const refused = await closed.send('/orders', { key: 'down-1', body: '{}' });
        expect(refused.status).toBe(503);
        expect(refused.problem).toMatchObject({ type: `${PROBLEM}store-unavailable`, status: 503 });
        expect(closed.app.total).toBe(0);

        const open = await setup({ failOpen: true, onError: () => {} });
        open.store.down = true;
        const ran = await open.send('/orders', { key: 'down-2', body: '{}' });
        expect(ran.status).toBe(201);
        expect(ran.headers.get('idempotent-bypassed')).toBe('store-unavailable');
        expect(open.app.total).toBe(1);
      });

      test('a 5xx releases the key: the retry runs again', async () => {
        const { app, send } = await setup();
        const first = await send('/fail', { key: 'fail-1', body: '{}' });
        const retry = await send('/fail', { key: 'fail-1', body: '{}' });
        expect(first.status).toBe(500);
        expect(retry.status).toBe(500);
        expect(retry.headers.get('idempotent-replayed')).toBeNull();
        expect(app.total).toBe(2);
      });

      test('a thrown error releases the key: the retry runs again', async () => {
        const { app, send } = await setup();
        const first = await send('/throw', { key: 'throw-1', body: '{}' });
        const retry = await send('/throw', { key: 'throw-1', body: '{}' });
        expect(first.status).toBe(500);
        expect(retry.status).toBe(500);
        expect(app.total).toBe(2);
      });

      test('a 4xx is stored and replayed', async () => {
        const { app, send } = await setup();
        const first = await send('/invalid', { key: 'bad-1', body: '{}' });
        const again = await send('/invalid', { key: 'bad-1', body: '{}' });
        expect(first.status).toBe(400);
        expect(again.status).toBe(400);
        expect(again.headers.get('idempotent-replayed')).toBe('true');
        expect(again.body.equals(first.body)).toBe(true);
        expect(app.total).toBe(1);
      });

      test('an oversize request body is a 413, nothing runs, and the key stays usable', async () => {
        const { app, send } = await setup({ maxRequestBody: 1000 });
        const big = await send('/orders', { key: 'big-1', body: JSON.stringify({ pad: 'x'.repeat(2000) }) });
        expect(big.status).toBe(413);
        expect(big.problem).toMatchObject({ type: `${PROBLEM}body-too-large`, status: 413 });
        expect(app.total).toBe(0);
        const small = await send('/orders', { key: 'big-1', body: '{"pad":"x"}' });
        expect(small.status).toBe(201);
        expect(app.total).toBe(1);
      });

      test('a response over maxResponseBody reaches the first caller whole; retries get a 410 problem, never a rerun', async () => {
        const { app, send } = await setup({ maxResponseBody: 4096 });
        const first = await send('/big?size=10000', { key: 'huge-1', body: '{}' });
        expect(first.status).toBe(200);
        expect(first.body.byteLength).toBe(10_000);
        const retry = await send('/big?size=10000', { key: 'huge-1', body: '{}' });
        expect(retry.status).toBe(410);
        expect(retry.problem).toMatchObject({ type: `${PROBLEM}response-too-large`, originalStatus: 200 });
        expect(app.total).toBe(1);
      });

      test('two tenants (different Authorization) with the same key run twice and never share a replay', async () => {
        const { app, send } = await setup();
        const alice = await send('/orders', { key: 'shared', body: '{}', headers: { authorization: 'Bearer alice' } });
        const bob = await send('/orders', { key: 'shared', body: '{}', headers: { authorization: 'Bearer bob' } });
        expect(app.runsFor('shared', 'Bearer alice')).toBe(1);
        expect(app.runsFor('shared', 'Bearer bob')).toBe(1);
        expect(bob.headers.get('idempotent-replayed')).toBeNull();
        expect(bob.body.equals(alice.body)).toBe(false);
        const aliceAgain = await send('/orders', { key: 'shared', body: '{}', headers: { authorization: 'Bearer alice' } });
        expect(aliceAgain.body.equals(alice.body)).toBe(true);
        expect(app.total).toBe(2);
      });

      test('GET is not covered: it runs every time, key or not', async () => {
        const { app, send } = await setup();
        await send('/orders', { method: 'GET', key: 'get-1' });
        const second = await send('/orders', { method: 'GET', key: 'get-1' });
        expect(second.status).toBe(201);
        expect(second.headers.get('idempotent-replayed')).toBeNull();
        expect(app.total).toBe(2);
      });

      test('outcomes are reported for metrics', async () => {
        const { app, events, send } = await setup();
        await send('/orders', { key: 'ev-1', body: '{}' });
        await send('/orders', { key: 'ev-1', body: '{}' });
        await send('/orders', { key: 'ev-1', body: '{"other":1}' });
        await send('/orders', { key: '"bad', body: '{}' });
        // `executed` is reported when the commit is done, before the first caller's body ends.
        expect(events.map((e) => e.outcome).sort()).toEqual(['executed', 'mismatch', 'rejected', 'replayed']);
        expect(events.find((e) => e.outcome === 'executed')?.stored).toBe(true);
        expect(app.total).toBe(1);
      });

      test('50 concurrent identical requests per key over 100 keys: one execution per key, every other answer a byte-identical replay or a 409', async () => {
        const { app, send } = await setup();
        const keys = Array.from({ length: 100 }, (_, i) => `conc-${i}`);
        const requests: { key: string; reply: Promise<Reply> }[] = [];
        // Interleave keys so duplicates of one key are in flight together.
        for (let copy = 0; copy < 50; copy++) {
          for (const key of keys) requests.push({ key, reply: send('/orders?delay=2', { key, body: `{"key":"${key}"}` }) });
        }
        const replies = await Promise.all(requests.map(async (r) => ({ key: r.key, reply: await r.reply })));
        for (const key of keys) {
          expect(app.runsFor(key), key).toBe(1);
          const mine = replies.filter((r) => r.key === key).map((r) => r.reply);
          const originals = mine.filter((r) => r.status === 201 && r.headers.get('idempotent-replayed') === null);
          expect(originals, key).toHaveLength(1);
          const original = originals[0]!;
          for (const reply of mine) {
            if (reply === original) continue;
            if (reply.status === 409) {
              expect(reply.problem?.type).toBe(`${PROBLEM}key-in-use`);
              continue;
            }
            expect(reply.status).toBe(201);
            expect(reply.headers.get('idempotent-replayed')).toBe('true');
            expect(reply.body.equals(original.body)).toBe(true);
          }
        }
        expect(app.total).toBe(100);
      });
    });
  }
}
