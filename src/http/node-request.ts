/**
 * A node:http request as a web Request. The body is exposed lazily: it is read only if the
 * middleware needs it, and once read it is put back into `req` (`unshift` before the end is
 * emitted), so the application's own body parser or `for await (const chunk of req)` still sees
 * every byte.
 */
import type { IncomingMessage } from 'node:http';
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
  return new ReadableStream<Uint8Array>(
    {
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
    },
    { highWaterMark: 0 },
  );
}
