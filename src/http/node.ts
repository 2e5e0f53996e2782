/**
 * `oncekey/node`: idempotency keys for a plain node:http handler.
 *
 * ```ts
 * import { createServer } from 'node:http';
 * import { withIdempotency } from 'oncekey/node';
 * import { sqliteStore } from 'oncekey/sqlite';
 *
 * createServer(withIdempotency(handler, { store: sqliteStore({ path: 'keys.db' }) })).listen(3000);
 * ```
 *
 * The handler reads `req` and writes `res` as usual; its response is captured (streaming
 * preserved) and stored, and retries are answered without calling it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { idempotency } from './middleware.js';
import type { IdempotencyOptions } from './options.js';
import { serveNode } from './node-bridge.js';

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

/**
 * `handler` behind the idempotency middleware. A handler that throws (or rejects) before
 * responding releases the key and gets a plain 500; its error goes to `options.onHandlerError`
 * (default: logged with `console.error`).
 */
export function withIdempotency(
  handler: NodeHandler,
  options: IdempotencyOptions & { readonly onHandlerError?: (error: unknown, req: IncomingMessage) => void },
): (req: IncomingMessage, res: ServerResponse) => void {
  const { onHandlerError = (error: unknown) => console.error(error), ...middlewareOptions } = options;
  const middleware = idempotency(middlewareOptions);
  return (req, res) => {
    if (!middleware.covers(req.method ?? 'GET')) {
      void Promise.resolve()
        .then(() => handler(req, res))
        .catch((error: unknown) => fail(error, req, res));
      return;
    }
    void serveNode(middleware, req, res, {
      downstream: () => handler(req, res),
      settles: true,
      failed: (error) => fail(error, req, res),
    });
  };

  function fail(error: unknown, req: IncomingMessage, res: ServerResponse): void {
    if (res.destroyed) return; // the client left; nothing to answer
    onHandlerError(error, req);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    res.statusCode = 500;
    res.setHeader('content-type', 'text/plain; charset=utf-8');
    res.end('Internal Server Error');
  }
}

export type { IdempotencyOptions } from './options.js';
