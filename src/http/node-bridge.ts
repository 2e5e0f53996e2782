/**
 * node:http ↔ web Request/Response, for the adapters that sit on Node's `req`/`res` (node, Express).
 *
 * - The request body is exposed lazily: it is read only if the middleware needs it, and once read
 *   it is put back into `req` (`unshift` before the end is emitted), so the application's own body
 *   parser or `for await (const chunk of req)` still sees every byte.
 * - The handler's response is captured by intercepting `writeHead`/`write`/`end` on `res`, as
 *   compression middleware does: the first write becomes a web Response whose body is fed by the
 *   later writes, so streaming handlers keep streaming.
 */
import type { IncomingMessage, ServerResponse, OutgoingHttpHeaders, OutgoingHttpHeader } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * A web Request for `req`. `body`, when given, replaces reading `req` itself: the bytes a parser
 * already consumed, or a stream standing for the body (Fastify's payload).
 */
export function toWebRequest(req: IncomingMessage, body?: Uint8Array | ReadableStream<Uint8Array>): Request {
  const method = req.method ?? 'GET';
  const host = req.headers.host ?? 'localhost';
  const protocol = (req.socket as TLSSocket | undefined)?.encrypted ? 'https' : 'http';
  const path = (req as { originalUrl?: string }).originalUrl ?? req.url ?? '/';
  const headers = new Headers();
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.startsWith(':')) continue; // HTTP/2 pseudo-headers
    try {
      headers.append(name, raw[i + 1]!);
    } catch {
      // A value Headers refuses cannot matter to the key or the fingerprint's defaults.
    }
  }
  const init: RequestInit & { duplex?: 'half' } = { method, headers };
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = body ?? restorableBody(req);
    if (!(init.body instanceof Uint8Array)) init.duplex = 'half';
  }
  return new Request(new URL(path, `${protocol}://${host}`), init);
}

/**
 * `req`'s body as a web stream that touches `req` only when pulled. Once the last byte is read,
 * before `req` emits `end`, all bytes are pushed back into it. Cancelling discards the rest.
 */
function restorableBody(req: IncomingMessage): ReadableStream<Uint8Array> {
  const kept: Buffer[] = [];
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      return new Promise<void>((resolve, reject) => {
        const detach = (): void => {
          req.off('readable', step);
          req.off('error', onError);
          req.off('close', onClose);
        };
        function step(): boolean {
          // `complete` with an empty buffer: every byte was read and `end` is not emitted yet
          // (it would be by a `read()` now), so the bytes can still go back.
          if (req.complete && req.readableLength === 0) {
            detach();
            if (kept.length > 0) req.unshift(Buffer.concat(kept));
            controller.close();
            resolve();
            return true;
          }
          const chunk = req.read() as Buffer | null;
          if (chunk === null) return false;
          detach();
          kept.push(chunk);
          controller.enqueue(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
          resolve();
          return true;
        }
        function onError(error: unknown): void {
          detach();
          reject(error);
        }
        function onClose(): void {
          if (req.complete) return;
          detach();
          reject(new Error('the request was aborted before its body was received'));
        }
        if (req.readableEnded) {
          // Someone consumed the body before us: nothing left to read or restore.
          controller.close();
          resolve();
          return;
        }
        if (step()) return;
        req.on('readable', step);
        req.on('error', onError);
        req.on('close', onClose);
      });
    },
    cancel() {
      req.resume(); // over the limit: drop the rest so the connection can be reused
    },
  }, { highWaterMark: 0 });
}

type WriteCallback = (error?: Error | null) => void;

/** Writing to the real `res`, past the capture. */
export interface NodeIo {
  /** Whether the head really went out (the capture reports the handler's view to it). */
  headSent(): boolean;
  write(chunk: Uint8Array): boolean;
  end(): void;
}

export interface NodeCapture {
  /** The handler's response, once it starts writing it. */
  readonly response: Promise<Response>;
  /** Writes the final response past the interception; the handler keeps writing into the capture. */
  readonly io: NodeIo;
  /** The handler failed: before responding, the key is released; while streaming, the body breaks. */
  fail(error: unknown): void;
  /** The handler's function returned (its response may still come later, from a callback). */
  returned(): void;
  /** Give `res` its own methods back, for the framework to answer when the middleware failed. */
  restore(): void;
}

export interface CaptureOptions {
  /**
   * True when `returned()` will be called (node handlers): a connection that closes mid-response
   * then waits for the handler to return before the body counts as broken. Express's `next()`
   * says nothing about when a route is done, so there the body breaks at once.
   */
  readonly waitsForReturn: boolean;
}

/** Intercept what a node handler writes to `res` and turn it into a web Response. */
export function captureNodeResponse(res: ServerResponse, options: CaptureOptions): NodeCapture {
  const names = ['writeHead', 'write', 'end', 'flushHeaders'] as const;
  // Another middleware (compression, say) may have patched these as own properties already.
  const original = names.map((name) => ({ name, own: Object.hasOwn(res, name), value: res[name] }));
  let resolveResponse!: (response: Response) => void;
  let rejectResponse!: (error: unknown) => void;
  const response = new Promise<Response>((resolve, reject) => {
    resolveResponse = resolve;
    rejectResponse = reject;
  });
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  let started = false;
  let ended = false;
  let waitingDrain = false;

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    pull() {
      if (waitingDrain) {
        waitingDrain = false;
        res.emit('drain');
      }
    },
  }, new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }));

  const start = (): void => {
    if (started) return;
    started = true;
    try {
      const headers = toHeaders(res.getHeaders());
      const status = res.statusCode;
      const nullBody = status === 204 || status === 205 || status === 304;
      resolveResponse(new Response(nullBody ? null : body, { status, statusText: res.statusMessage, headers }));
    } catch (error) {
      rejectResponse(error);
    }
  };
  const push = (chunk: unknown, encoding?: BufferEncoding): void => {
    if (chunk === undefined || chunk === null || ended) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : Buffer.from(chunk as Uint8Array);
    if (bytes.byteLength > 0) controller!.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  };
  const splitArgs = (a: unknown, b: unknown): { encoding?: BufferEncoding; callback?: WriteCallback } =>
    typeof a === 'function' ? { callback: a as WriteCallback } : { encoding: a as BufferEncoding, callback: b as WriteCallback | undefined };

  const patched = res as unknown as Record<string, unknown>;
  // Frameworks check headersSent (Express's error handler destroys the socket instead of writing
  // a second response once a body started): report what the handler did, not what reached the wire.
  Object.defineProperty(res, 'headersSent', { configurable: true, get: () => started });
  patched.writeHead = function writeHead(status: number, reason?: unknown, headers?: unknown) {
    if (typeof reason !== 'string') [headers, reason] = [reason, undefined];
    res.statusCode = status;
    if (typeof reason === 'string') res.statusMessage = reason;
    applyHeaders(res, headers as OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined);
    return res;
  };
  patched.flushHeaders = function flushHeaders() {
    start();
  };
  patched.write = function write(chunk: unknown, a?: unknown, b?: unknown) {
    const { encoding, callback } = splitArgs(a, b);
    start();
    push(chunk, encoding);
    if (callback) process.nextTick(callback);
    const ok = (controller!.desiredSize ?? 1) > 0;
    if (!ok) waitingDrain = true;
    return ok;
  };
  patched.end = function end(chunk?: unknown, a?: unknown, b?: unknown) {
    if (typeof chunk === 'function') [chunk, a] = [undefined, chunk];
    const { encoding, callback } = splitArgs(a, b);
    start();
    push(chunk, encoding);
    if (!ended) {
      ended = true;
      controller!.close();
    }
    if (callback) res.once('finish', () => callback());
    return res;
  };
  // A client that leaves does not end the handler's work: a response it has not started is
  // still captured and stored when it comes. A handler that returned without responding, on a
  // connection that is gone, never will: that releases the key. A response cut off mid-body
  // (the client left, or Express destroyed the socket after a route error) is broken: also a
  // release, once the handler can no longer finish it.
  let handlerReturned = false;
  let closed = false;
  const settleIfAbandoned = (): void => {
    if (!(closed || res.destroyed)) return;
    if (!started && handlerReturned) {
      started = true;
      rejectResponse(new Error('the handler returned without responding and the connection closed'));
    } else if (started && !ended && (handlerReturned || !options.waitsForReturn)) {
      ended = true;
      controller!.error(new Error('the connection closed before the handler finished its response'));
    }
  };
  const onClose = (): void => {
    closed = true;
    settleIfAbandoned();
  };
  res.once('close', onClose);

  type Method = (this: ServerResponse, arg?: unknown) => unknown;
  const real = (name: (typeof names)[number]): Method => original.find((o) => o.name === name)!.value as Method;
  const [realWriteHead, realWrite, realEnd] = [real('writeHead'), real('write'), real('end')];
  let headWritten = false;
  // Node's write/end would send the head through the patched writeHead: send it for real first.
  const head = (): void => {
    if (headWritten) return;
    headWritten = true;
    realWriteHead.call(res, res.statusCode);
  };
  return {
    response,
    io: {
      headSent: () => headWritten,
      write: (chunk) => {
        head();
        return realWrite.call(res, chunk) as boolean;
      },
      end: () => {
        head();
        realEnd.call(res);
      },
    },
    returned() {
      handlerReturned = true;
      settleIfAbandoned();
    },
    fail(error) {
      if (!started) {
        started = true;
        rejectResponse(error);
      } else if (!ended) {
        ended = true;
        controller!.error(error);
      }
    },
    restore() {
      res.off('close', onClose);
      delete patched.headersSent;
      for (const { name, own, value } of original) {
        if (own) patched[name] = value;
        else delete patched[name];
      }
    },
  };
}

const directIo = (res: ServerResponse): NodeIo => ({
  headSent: () => res.headersSent,
  write: (chunk) => res.write(chunk),
  end: () => void res.end(),
});

/** Write `response` to `res`: status, headers, then the body with backpressure. */
export async function sendWebResponse(res: ServerResponse, response: Response, io: NodeIo = directIo(res)): Promise<void> {
  if (io.headSent()) {
    // Should not happen (the capture holds the head back); never write a second head.
    res.destroy(new Error('oncekey: the response head was already sent'));
    return;
  }
  res.statusCode = response.status;
  if (response.statusText) res.statusMessage = response.statusText;
  for (const name of new Set(response.headers.keys())) {
    if (name === 'set-cookie') res.setHeader(name, response.headers.getSetCookie());
    else res.setHeader(name, response.headers.get(name)!);
  }
  if (response.body === null) {
    io.end();
    return;
  }
  const reader = response.body.getReader();
  // The caller went away: cancelling lets the capture keep reading the handler's body so its
  // outcome is still stored for the retry.
  const onClose = (): void => {
    if (!res.writableFinished) reader.cancel().catch(() => {});
  };
  res.on('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (res.destroyed) return;
      if (!io.write(value)) await drained(res);
    }
    io.end();
  } catch (error) {
    // A broken body must not look complete to the client.
    res.destroy(error instanceof Error ? error : new Error(String(error)));
  } finally {
    res.off('close', onClose);
  }
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

function applyHeaders(res: ServerResponse, headers: OutgoingHttpHeaders | OutgoingHttpHeader[] | undefined): void {
  if (headers === undefined || headers === null) return;
  if (Array.isArray(headers)) {
    // Node's flat form: [name, value, name, value, …]
    for (let i = 0; i + 1 < headers.length; i += 2) res.setHeader(String(headers[i]), headers[i + 1] as string | string[]);
    return;
  }
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) res.setHeader(name, value);
}

function toHeaders(outgoing: OutgoingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(outgoing)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else headers.set(name, String(value));
  }
  return headers;
}

export interface NodeFlow {
  /**
   * Run the application for this request; it writes to `res`. A rejection is a handler failure.
   * With `settles: true`, a resolved promise means the handler returned (node handlers); Express's
   * `next()` says nothing about when the route is done, so there it is false.
   */
  downstream(): unknown;
  readonly settles: boolean;
  /**
   * The request could not be answered through the middleware: the handler failed before
   * responding, or the middleware itself failed. `res` has its own methods back.
   */
  failed(error: unknown): void;
}

/** One request through `middleware` on node's `req`/`res`. Never rejects. */
export async function serveNode(
  middleware: (request: Request, next: (request: Request) => Promise<Response>) => Promise<Response>,
  req: IncomingMessage,
  res: ServerResponse,
  flow: NodeFlow,
  body?: Uint8Array,
): Promise<void> {
  let capture: NodeCapture | undefined;
  let response: Response;
  try {
    response = await middleware(toWebRequest(req, body), () => {
      const current = (capture = captureNodeResponse(res, { waitsForReturn: flow.settles }));
      // The body was put back into `req` (or parsed before us): the application reads it there.
      Promise.resolve()
        .then(() => flow.downstream())
        .then(() => flow.settles && current.returned(), (error: unknown) => current.fail(error));
      return current.response;
    });
  } catch (error) {
    capture?.restore();
    flow.failed(error);
    return;
  }
  // The handler may still be writing its body into the capture: the interception stays.
  await sendWebResponse(res, response, capture?.io);
}
