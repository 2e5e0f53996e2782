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
 *
 * Most handlers answer with a body already in memory (a string, JSON, bytes): when the whole body
 * has been read before the event loop's next turn, it is handed back as bytes instead, with no
 * stream wrapped around it; the caller then builds the response after storing it.
 */
import { concatBytes } from '../core/bytes.js';

export type CapturedBody =
  | { readonly kind: 'complete'; readonly bytes: Uint8Array }
  | { readonly kind: 'too_large'; readonly size: number }
  | { readonly kind: 'error'; readonly error: unknown };

/** What {@link captureResponse} gives: the whole body at once, or a response that streams it. */
export type Capture = { readonly kind: 'complete'; readonly bytes: Uint8Array } | { readonly kind: 'stream'; readonly response: Response };

const nextTurn: (callback: () => void) => () => void =
  typeof setImmediate === 'function'
    ? (callback) => {
        const handle = setImmediate(callback);
        return () => clearImmediate(handle);
      }
    : (callback) => {
        const handle = setTimeout(callback, 0);
        return () => clearTimeout(handle);
      };

const TURN = Symbol('turn');

type ChunkRead = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;

/**
 * The body of `response`, whole, when it was available at once (read before the event loop's
 * next turn) and within `limit`; `settle` is then not called. Otherwise a response that streams the
 * body while capturing it, as {@link streamingCapture}; a response without a body counts as an
 * empty one.
 */
export async function captureResponse(response: Response, limit: number, settle: (body: CapturedBody) => Promise<void>): Promise<Capture> {
  if (response.body === null) return { kind: 'complete', bytes: new Uint8Array(0) };
  const reader = response.body.getReader();
  const early: Uint8Array[] = [];
  let size = 0;
  let pending: Promise<ChunkRead> | undefined = reader.read();
  let later!: () => void;
  const turn = new Promise<typeof TURN>((resolve) => (later = () => resolve(TURN)));
  const stopTurn = nextTurn(later);
  try {
    for (;;) {
      const next = await Promise.race([pending, turn]);
      if (next === TURN) break; // still producing: stream it
      if (next.done) return { kind: 'complete', bytes: concatBytes(early, size) };
      early.push(next.value);
      size += next.value.byteLength;
      pending = undefined;
      if (size > limit) break;
      pending = reader.read();
    }
  } catch {
    // A body that breaks at once: the streaming capture reports it to `settle` and the caller.
  } finally {
    stopTurn();
  }
  return { kind: 'stream', response: streamingCapture(response, reader, early, pending, limit, settle) };
}

/**
 * `response` with a body that reports to `settle` exactly once. `settle` must not throw (errors
 * are its own to report). `early` chunks were read from `reader` already, and `pending` is its
 * read in flight, if any.
 */
function streamingCapture(
  response: Response,
  reader: ReadableStreamDefaultReader<Uint8Array>,
  early: Uint8Array[],
  pending: Promise<ChunkRead> | undefined,
  limit: number,
  settle: (body: CapturedBody) => Promise<void>,
): Response {
  const read = (): Promise<ChunkRead> => {
    const chunk = early.shift();
    if (chunk !== undefined) return Promise.resolve({ done: false, value: chunk });
    if (pending === undefined) return reader.read();
    const next = pending;
    pending = undefined;
    return next;
  };
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
      const next = await read();
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
  const body = new ReadableStream<Uint8Array>(
    {
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
          const next = await read();
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
    },
    { highWaterMark: 0 },
  );
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
