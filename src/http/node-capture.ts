/**
 * Capturing what a node:http handler writes to `res` as a web Response, by intercepting
 * `writeHead`/`write`/`end` as compression middleware does: the first write becomes the Response,
 * whose body is fed by the later writes, so streaming handlers keep streaming. The final response
 * is written past the interception ({@link NodeIo}).
 */
import type { OutgoingHttpHeader, OutgoingHttpHeaders, ServerResponse } from 'node:http';

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

  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        if (waitingDrain) {
          waitingDrain = false;
          res.emit('drain');
        }
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: 64 * 1024 }),
  );

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
    typeof a === 'function'
      ? { callback: a as WriteCallback }
      : { encoding: a as BufferEncoding, callback: b as WriteCallback | undefined };

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
