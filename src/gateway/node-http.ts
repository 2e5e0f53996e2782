/**
 * Between node:http and the web `Request`/`Response` the middleware speaks: reading a client's
 * body within a limit, and writing a `Response` (or an upstream's streaming answer) to a
 * `ServerResponse` with backpressure, cutting the connection when a body breaks mid-way.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { UpstreamResponse } from './upstream.js';

/** A request body for the middleware: bytes, none, or a stream when it is over `limit`. */
export type ClientBody = Uint8Array | null | ReadableStream<Uint8Array>;

/**
 * The client's body, read whole when it fits within `limit` bytes (the middleware fingerprints
 * it anyway, and a buffer forwards faster than a stream). A body over the limit comes back as a
 * stream of what was read and the rest, so the middleware itself answers 413 and closes.
 */
export async function readClientBody(req: IncomingMessage, limit: number): Promise<ClientBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Readable.toWeb(req) as ReadableStream<Uint8Array>;
  const chunks: Buffer[] = [];
  let size = 0;
  const iterator = req[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  for (;;) {
    const next = await iterator.next();
    if (next.done) break;
    chunks.push(next.value);
    size += next.value.byteLength;
    if (size > limit) return replay(chunks, iterator);
  }
  if (size === 0) return null;
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/** A stream of `read` chunks followed by the rest of `iterator`. */
function replay(read: Buffer[], iterator: AsyncIterator<Buffer>): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = read.shift();
      if (chunk !== undefined) return controller.enqueue(chunk);
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

/** Copy status and headers of a web `Response` onto `res` (`set-cookie` kept as separate lines). */
function writeHead(res: ServerResponse, status: number, statusText: string, headers: Iterable<[string, string]>, cookies: string[]): void {
  res.statusCode = status;
  if (statusText !== '') res.statusMessage = statusText;
  for (const [name, value] of headers) if (name !== 'set-cookie') res.setHeader(name, value);
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
}

/** Write an upstream's answer straight to `res` (the pass-through path), streaming its body. */
export async function sendUpstream(res: ServerResponse, upstream: UpstreamResponse, method: string): Promise<void> {
  const cookies: string[] = [];
  const others: [string, string][] = [];
  for (const [name, value] of upstream.headers) {
    if (name === 'set-cookie') cookies.push(value);
    else others.push([name, value]);
  }
  // Repeated headers other than set-cookie are joined, as the Fetch Headers class would.
  const joined = new Map<string, string>();
  for (const [name, value] of others) joined.set(name, joined.has(name) ? `${joined.get(name)}, ${value}` : value);
  writeHead(res, upstream.status, upstream.statusText, joined, cookies);
  if (method === 'HEAD' || NULL_BODY_STATUSES.has(upstream.status)) {
    upstream.body.resume();
    res.end();
    return;
  }
  try {
    await pipeline(upstream.body, res);
  } catch {
    // The client left or the upstream body broke: pipeline destroyed both sides already.
  }
}

/** Statuses whose responses have no body (a web `Response` refuses one). */
export const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304]);

/** Send a small complete body (problems, admin answers). */
export function sendText(res: ServerResponse, status: number, headers: readonly (readonly [string, string])[], body: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.statusCode = status;
  for (const [name, value] of headers) res.setHeader(name, value);
  res.end(body);
}
