/**
 * Capturing a response body while it streams to the first caller.
 *
 * Chunks pass through as they come (server-sent events and downloads keep streaming) and a copy
 * is kept. Up to `limit` bytes the body is read as fast as the handler produces it, whether or not
 * the caller keeps up, so the outcome is settled even if the caller stalls or leaves without
 * cancelling; past the limit, the outcome is settled at once (`too_large`) and the rest flows at
 * the caller's pace.
 *
 * When the whole body fits, `settle` runs and only then does the caller's stream close, so a
 * client that retries as soon as it has read the response always finds the outcome stored.
 */
import { concatBytes } from './body.js';

export type CapturedBody =
  | { readonly kind: 'complete'; readonly bytes: Uint8Array }
  | { readonly kind: 'too_large'; readonly size: number }
  | { readonly kind: 'error'; readonly error: unknown };

/**
 * `response` with a body that reports to `settle` exactly once. `settle` must not throw (errors
 * are its own to report). A response without a body is returned as is, with `settle` called at
 * once and not awaited: there is no end to hold back.
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
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  const forward = (chunk: Uint8Array): void => {
    if (!cancelled) controller.enqueue(chunk);
  };

  // Phase one: read eagerly up to the limit; resolves true when the limit was passed.
  async function pump(): Promise<boolean> {
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        await settle({ kind: 'complete', bytes: concatBytes(chunks, size) });
        return false;
      }
      size += next.value.byteLength;
      forward(next.value);
      if (size > limit) {
        await settle({ kind: 'too_large', size });
        return true;
      }
      chunks.push(next.value);
    }
  }

  let phaseOne!: Promise<boolean>;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      phaseOne = pump().then(
        (over) => {
          if (!over && !cancelled) controller.close();
          return over;
        },
        async (error: unknown) => {
          await settle({ kind: 'error', error });
          if (!cancelled) controller.error(error);
          return false;
        },
      );
    },
    // Phase two (past the limit) goes at the caller's pace; until then the pump enqueues.
    async pull(c) {
      if (!(await phaseOne) || cancelled) return;
      try {
        const next = await reader.read();
        if (next.done) c.close();
        else c.enqueue(next.value);
      } catch (error) {
        c.error(error);
      }
    },
    async cancel() {
      cancelled = true;
      // Below the limit the pump keeps reading, so the outcome is still stored for the retry.
      if (await phaseOne) await reader.cancel().catch(() => {});
    },
  }, { highWaterMark: 0 });
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
