import { RequestBodyTooLargeError } from './errors.js';

/**
 * Read a request's body once into memory, so every retry sends the same bytes. A body over
 * `limit` fails with {@link RequestBodyTooLargeError} as soon as the limit is passed (a stream is
 * not read to its end). `null` when the request has no body. The signal stops the read.
 */
export async function bufferBody(request: Request, limit: number, signal: AbortSignal | undefined): Promise<Uint8Array | null> {
  const body = request.body;
  if (body === null) return null;
  const reader = body.getReader();
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
        await reader.cancel().catch(() => {});
        throw new RequestBodyTooLargeError(limit);
      }
      chunks.push(value);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
}
