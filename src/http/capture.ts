/**
 * Capturing a response body while it streams to the first caller.
 *
 * Chunks pass through as they come (server-sent events and large downloads keep streaming); a
 * copy is kept up to `limit` bytes. When the body ends, `settle` runs (it stores the outcome) and
 * only then does the caller's stream close, so a client that retries as soon as it has read the
 * response always finds the outcome stored. If the caller goes away mid-body, the rest is still
 * read (up to the limit) so the outcome can be stored for its retry.
 */
import { concatBytes } from './body.js';

export type CapturedBody =
  | { readonly kind: 'complete'; readonly bytes: Uint8Array }
  | { readonly kind: 'too_large'; readonly size: number }
  | { readonly kind: 'error'; readonly error: unknown };

/**
 * `response` with a body that reports to `settle` exactly once. `settle` must not throw (errors
 * are its own to report); the stream closes or errors after it resolves. A response without a
 * body is returned as is, `settle` called at once and not awaited (there is no end to hold back).
 * The caller must read the body to its end or cancel it, or `settle` never runs.
 */
export function captureResponse(
  response: Response,
  limit: number,
  settle: (body: CapturedBody) => Promise<void>,
): Response {
  if (response.body === null) {
    void settle({ kind: 'complete', bytes: new Uint8Array(0) });
    return response;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let settled: Promise<void> | undefined;
  const finish = (body: CapturedBody): Promise<void> => (settled ??= settle(body));
  const keep = (chunk: Uint8Array): void => {
    size += chunk.byteLength;
    if (size <= limit) chunks.push(chunk);
    else chunks.length = 0; // over the limit: nothing will be stored, stop holding memory
  };
  const ended = (): Promise<void> =>
    finish(size <= limit ? { kind: 'complete', bytes: concatBytes(chunks, size) } : { kind: 'too_large', size });

  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      let next: Awaited<ReturnType<typeof reader.read>>;
      try {
        next = await reader.read();
      } catch (error) {
        await finish({ kind: 'error', error });
        controller.error(error);
        return;
      }
      if (next.done) {
        await ended();
        controller.close();
        return;
      }
      keep(next.value);
      controller.enqueue(next.value);
    },
    async cancel() {
      // The caller left; the handler's effect is done, so keep its outcome for the retry.
      try {
        for (;;) {
          const next = await reader.read();
          if (next.done) break;
          keep(next.value);
          if (size > limit) {
            await reader.cancel().catch(() => {});
            break;
          }
        }
        await ended();
      } catch (error) {
        await finish({ kind: 'error', error });
      }
    },
  });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
