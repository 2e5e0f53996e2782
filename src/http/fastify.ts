/**
 * `oncekey/fastify`: idempotency keys as a Fastify v5 plugin.
 *
 * ```ts
 * import Fastify from 'fastify';
 * import { idempotency } from 'oncekey/fastify';
 * import { sqliteStore } from 'oncekey/sqlite';
 *
 * const app = Fastify();
 * await app.register(idempotency, { store: sqliteStore({ path: 'keys.db' }) });
 * app.post('/orders', async (request, reply) => reply.code(201).send(await createOrder(request.body)));
 * ```
 *
 * How it maps onto Fastify's lifecycle:
 * - `preParsing` hands the request to the middleware with a lazy view of the payload. A replay or
 *   a problem is sent from there (the route never runs); otherwise the bytes the middleware read
 *   become the payload Fastify parses.
 * - `onSend` hands the route's reply (status, headers, payload — errors included) to the
 *   middleware as the handler's response, and sends what the middleware returns. A string or
 *   Buffer payload is sent once its outcome is stored; a stream keeps streaming.
 * - `onResponse` releases the key of a request whose response bypassed `onSend` (a hijacked
 *   reply cannot be captured). A client that aborts does not release the key: the route may
 *   still be working, and its reply is still stored when it comes.
 * The plugin is not encapsulated: registered at the root, it covers every route.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';
import { idempotency as core } from './middleware.js';
import type { IdempotencyOptions } from './options.js';
import { toWebRequest } from './node-request.js';

interface Pending {
  /** True once the middleware answered on its own (replay, problem) or failed. */
  answered: boolean;
  /** Set once the route may run: settle the middleware's `next` with the route's reply. */
  readonly resolve: ((response: Response) => void) | undefined;
  readonly reject: ((error: unknown) => void) | undefined;
  readonly final: Promise<Response>;
}

const PENDING = Symbol('oncekey.pending');
type WithPending = FastifyRequest & { [PENDING]?: Pending };

/** Options Fastify's `register` may pass along with the plugin's own. */
const REGISTER_OPTIONS = ['prefix', 'logLevel', 'logSerializers'];

/** The plugin: `app.register(idempotency, options)`. */
export const idempotency: FastifyPluginCallback<IdempotencyOptions> = (fastify, registerOptions, done) => {
  const options = Object.fromEntries(Object.entries(registerOptions).filter(([name]) => !REGISTER_OPTIONS.includes(name)));
  const middleware = core(options as IdempotencyOptions);

  // Callback style on purpose: an async preParsing hook that sends a reply would let the route run.
  fastify.addHook('preParsing', (request: WithPending, reply, payload, hookDone) => {
    if (!middleware.covers(request.method)) {
      hookDone(null, payload);
      return;
    }
    const body = lazyBody(payload);
    let routeMayRun!: () => void;
    const nextCalled = new Promise<'next'>((resolve) => (routeMayRun = () => resolve('next')));
    const route = { resolve: undefined as Pending['resolve'], reject: undefined as Pending['reject'] };
    // `next` may be called synchronously (a request without a key), so it must not touch `pending`.
    const final = middleware(
      toWebRequest(request.raw, body.stream),
      () =>
        new Promise<Response>((resolve, reject) => {
          route.resolve = resolve;
          route.reject = reject;
          routeMayRun();
        }),
    );
    final.catch(() => {}); // awaited in onSend, or turned into Fastify's error below
    const pending: Pending = {
      answered: false,
      final,
      get resolve() {
        return route.resolve;
      },
      get reject() {
        return route.reject;
      },
    };
    request[PENDING] = pending;
    Promise.race([nextCalled, pending.final]).then(
      (first) => {
        if (first === 'next') {
          hookDone(null, body.payload());
          return;
        }
        pending.answered = true;
        void send(reply, first);
      },
      (error: unknown) => {
        pending.answered = true;
        hookDone(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });

  fastify.addHook('onSend', async (request: WithPending, reply, payload) => {
    const pending = request[PENDING];
    if (pending === undefined || pending.answered || pending.resolve === undefined) return payload;
    pending.answered = true;
    const streaming = payload instanceof Readable;
    pending.resolve(new Response(webBody(payload, reply.statusCode), { status: reply.statusCode, headers: replyHeaders(reply) }));
    const response = await pending.final;
    reply.code(response.status);
    // The reply keeps its headers; the middleware may add some (e.g. Idempotent-Bypassed).
    for (const name of new Set(response.headers.keys())) {
      if (!reply.hasHeader(name)) reply.header(name, name === 'set-cookie' ? response.headers.getSetCookie() : response.headers.get(name));
    }
    if (response.body === null) return null;
    // A known-size payload is held until its outcome is stored, then sent with its length.
    if (!streaming) return Buffer.from(await response.arrayBuffer());
    return Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>);
  });

  const abandon = (request: WithPending): void => {
    const pending = request[PENDING];
    if (pending === undefined || pending.answered || pending.reject === undefined) return;
    pending.answered = true;
    pending.reject(new Error('the request ended without a reply the middleware could capture'));
  };
  // A finished response that never went through onSend (a hijacked reply) cannot be stored.
  // An aborted request is not released: its route may still be working and will reply.
  fastify.addHook('onResponse', (request: WithPending, _reply, hookDone) => {
    abandon(request);
    hookDone();
  });
  done();
};

// What the fastify-plugin helper does: hooks apply to the registering scope, not a child.
Object.assign(idempotency, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: 'oncekey',
});

async function send(reply: FastifyReply, response: Response): Promise<void> {
  reply.code(response.status);
  for (const name of new Set(response.headers.keys())) {
    reply.header(name, name === 'set-cookie' ? response.headers.getSetCookie() : response.headers.get(name));
  }
  reply.send(response.body === null ? null : Buffer.from(await response.arrayBuffer()));
}

function replyHeaders(reply: FastifyReply): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, String(v));
    else headers.set(name, String(value));
  }
  return headers;
}

function webBody(payload: unknown, status: number): Uint8Array | ReadableStream<Uint8Array> | null {
  if (payload === null || payload === undefined || status === 204 || status === 205 || status === 304) return null;
  if (typeof payload === 'string') return Buffer.from(payload);
  if (payload instanceof Uint8Array) return payload;
  if (payload instanceof Readable) return Readable.toWeb(payload) as unknown as ReadableStream<Uint8Array>;
  return Buffer.from(String(payload));
}

/**
 * The payload stream as a web stream that reads it only when pulled, and what to give Fastify
 * afterwards: the untouched stream, or the bytes that were read.
 */
function lazyBody(source: Readable & { receivedEncodedLength?: number }): { stream: ReadableStream<Uint8Array>; payload(): Readable } {
  const kept: Buffer[] = [];
  let touched = false;
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        touched = true;
        return new Promise<void>((resolve, reject) => {
          const detach = (): void => {
            source.off('readable', step);
            source.off('end', step);
            source.off('error', onError);
          };
          function step(): boolean {
            const chunk = source.read() as Buffer | null;
            if (chunk !== null) {
              detach();
              kept.push(chunk);
              controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
              resolve();
              return true;
            }
            if (!source.readableEnded) return false;
            detach();
            controller.close();
            resolve();
            return true;
          }
          function onError(error: unknown): void {
            detach();
            reject(error);
          }
          if (step()) return;
          source.on('readable', step);
          source.on('end', step);
          source.on('error', onError);
        });
      },
      cancel() {
        source.resume(); // over the limit: drop the rest
      },
    },
    { highWaterMark: 0 },
  );
  return {
    stream,
    payload() {
      if (!touched) return source;
      const replay = Readable.from(kept, { objectMode: false }) as Readable & { receivedEncodedLength?: number };
      // Fastify checks Content-Length against this (an earlier hook may have decoded the body).
      replay.receivedEncodedLength = source.receivedEncodedLength ?? kept.reduce((n, c) => n + c.byteLength, 0);
      return replay;
    },
  };
}

export type { IdempotencyOptions } from './options.js';
