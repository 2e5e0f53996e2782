/** Reading a request body whole, within a size limit, without trusting Content-Length alone. */
import { concatBytes } from '../core/bytes.js';

export type BodyRead = { readonly kind: 'body'; readonly bytes: Uint8Array } | { readonly kind: 'too_large'; readonly limit: number };

/**
 * All of `request`'s body, or `too_large` once it is known to exceed `limit` bytes: from a
 * Content-Length over the limit, before reading anything; a body without one is not read past the
 * limit; a body whose Content-Length is within the limit is read in one go, then checked.
 */
export async function readBodyWithin(request: Request, limit: number): Promise<BodyRead> {
  const length = request.headers.get('content-length');
  const declared = length === null ? Number.NaN : Number(length);
  if (declared > limit) return { kind: 'too_large', limit };
  if (declared <= limit) {
    // Within the limit by its length: one read is much cheaper than chunk by chunk (and reads a
    // null body as empty without touching `body`, which some runtimes build lazily). The length
    // is checked again, for a Request built in-process with a wrong Content-Length.
    const bytes = new Uint8Array(await request.arrayBuffer());
    return bytes.byteLength > limit ? { kind: 'too_large', limit } : { kind: 'body', bytes };
  }
  if (request.body === null) return { kind: 'body', bytes: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return { kind: 'too_large', limit };
    }
    chunks.push(value);
  }
  return { kind: 'body', bytes: concatBytes(chunks, size) };
}
