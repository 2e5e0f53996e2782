/**
 * node:http ↔ the web-standard middleware, for the adapters that sit on Node's `req`/`res`
 * (`oncekey/node`, `oncekey/express`): one request in, through the middleware, the answer out.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type NodeCapture, type NodeIo, captureNodeResponse } from './node-capture.js';
import { toWebRequest } from './node-request.js';

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
      if (res.destroyed) {
        // Gone before 'close' was seen: cancel here, or the capture would wait for a reader.
        onClose();
        return;
      }
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

/** Resolves when `res` can take more data (or is gone): back-pressure for hand-written pumps. */
export function drained(res: ServerResponse): Promise<void> {
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
        .then(
          () => flow.settles && current.returned(),
          (error: unknown) => current.fail(error),
        );
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
