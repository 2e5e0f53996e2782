import { concatBytes } from '../core/bytes.js';
import { RequestBodyTooLargeError } from './errors.js';

/**
 * Read a request's body once into memory, so every retry sends the same bytes. A body over
 * `limit` fails with {@link RequestBodyTooLargeError} as soon as the limit is passed (a stream is
 * not read to its end). `null` when the request has no body. The signal stops the read.
 */
export async function bufferBody(request: Request, limit: number, signal: AbortSignal | undefined): Promise<Uint8Array | null> {
  const body = request.body;
  if (body === null) return null;
  const bytes = await readWithin(body, limit, signal);
  if (bytes === undefined) throw new RequestBodyTooLargeError(limit);
  return bytes;
}

/**
 * All of `stream`, or `undefined` as soon as it passes `limit` bytes (the stream is then
 * cancelled, not read to its end). The signal stops the read.
 */
export async function readWithin(
  stream: ReadableStream<Uint8Array>,
  limit: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array | undefined> {
  const reader = stream.getReader();
  const onAbort = (): void => void reader.cancel(signal?.reason).catch(() => {});
  signal?.throwIfAborted();
  signal?.addEventListener('abort', onAbort, { once: true });
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      signal?.throwIfAborted();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        // Not awaited: cancelling one branch of a tee (a clone's body) settles only when the other is cancelled too.
        void reader.cancel().catch(() => {});
        return undefined;
      }
      chunks.push(value);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  return concatBytes(chunks, size);
}
